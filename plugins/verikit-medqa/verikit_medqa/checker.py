"""Which option a free-text answer to a multiple-choice question chose, and whether it is the gold one.

The chosen option is read, in this order, from: an answer phrase ("The answer is (C)", "Answer: C.",
"the correct answer is option c"), then the last line ("C.", "(C) Metformin", "I choose option C"). When
no letter is stated, the text after the answer phrase (or a short last line) is kept as the chosen
option's *text*; it is correct when it equals the gold option's text, which the loader puts in the gold
answer (``"C: Metformin"``). Only the last 5,000 characters are searched: answers come at the end, and a
10 MB solution must not cost a full scan. Nothing here can raise on a string or run for long: plain
regular expressions without nested quantifiers.
"""

from __future__ import annotations

import re
import unicodedata

from verikit.interfaces import AnswerChecker

LETTERS = "ABCDE"
_TAIL = 5_000
_MAX_TEXT_ANSWER = 200
# An upper-case letter counts only when nothing word-like follows it ("The answer is A beta blocker" is
# not a letter answer); a lower-case one only in parentheses or after "option"/"choice".
_AFTER_LETTER = r"(?=\s*$|\s*\n|[.,;:!)\]]|\s+[-–—:(])"
_PHRASE_LETTER = re.compile(
    r"(?i:answer)\s*(?i:is|:|=|would be|should be)?\s*:?\s*"
    r"(?:(?i:option|choice)\s*\(?([A-Ea-e])\)?(?!\w)|\(?([A-Ea-e])\)|([A-E])" + _AFTER_LETTER + ")"
)
_PHRASE_TEXT = re.compile(r"answer\s*(?:is|:)\s*:?\s*([^\n]{1,%d})" % _MAX_TEXT_ANSWER, re.IGNORECASE)
_OPTION_WORD = re.compile(r"\b(?:option|choice)\s*\(?([A-Ea-e])\)?(?![\w])", re.IGNORECASE)
_LEADING_LETTER = re.compile(r"^\s*\(?([A-E])(?:\)|\.|:|\s*$)")
_PAREN_LETTER = re.compile(r"\(([A-E])\)")
_GOLD = re.compile(r"^\s*\(?([A-Ea-e])\)?\s*(?:[.:)\-]\s*(.*))?$", re.S)
_SPACES = re.compile(r"\s+")
_ARTICLE = re.compile(r"^(?:the|an?)\s+")


#: Longer texts are not option texts; only this much is normalised (NFKC can expand a string 18-fold).
_MAX_NORMALIZED = 10_000


def normalize_option_text(text: str) -> str:
    """Case, accents, spacing, a leading article and trailing punctuation do not matter.

    A text over ``_MAX_NORMALIZED`` characters is cut to that length first (it cannot be an option's text,
    and normalising a million characters would take seconds).
    """
    text = unicodedata.normalize("NFKC", text[:_MAX_NORMALIZED]).casefold().strip().strip(".,;:!?\"'*").strip()
    return _ARTICLE.sub("", _SPACES.sub(" ", text))


def parse_gold(gold: str) -> tuple[str | None, str]:
    """``"C"``, ``"(C)"`` or ``"C: Metformin"`` → ``("C", "metformin")``; anything else is option text only."""
    match = _GOLD.match(gold) if isinstance(gold, str) else None
    if match and (match.group(2) is not None or len(gold.strip().strip("()")) == 1):
        return match.group(1).upper(), normalize_option_text(match.group(2) or "")
    return None, normalize_option_text(gold) if isinstance(gold, str) else ""


class MultipleChoiceChecker(AnswerChecker):
    """MedQA/MedMCQA answers: a letter A–E stated in free text, or the chosen option's own text."""

    name = "medqa"

    def extract(self, text: str) -> str | None:
        if not isinstance(text, str) or not text.strip():
            return None
        tail = text[-_TAIL:]
        phrases = list(_PHRASE_LETTER.finditer(tail))
        if phrases:
            return next(g for g in phrases[-1].groups() if g).upper()
        last_line = tail.rstrip().rsplit("\n", 1)[-1]
        for pattern in (_OPTION_WORD, _PAREN_LETTER):
            found = pattern.findall(last_line)
            if found:
                return found[-1].upper()
        leading = _LEADING_LETTER.match(last_line)
        if leading:
            return leading.group(1)
        stated = _PHRASE_TEXT.findall(tail)
        candidate = stated[-1] if stated else last_line
        candidate = normalize_option_text(candidate)
        if candidate and len(candidate) <= _MAX_TEXT_ANSWER and any(c.isalpha() for c in candidate):
            return candidate
        return None

    def normalize(self, answer: str | None) -> str | None:
        if answer is None:
            return None
        stripped = answer.strip()
        return (
            stripped.upper() if len(stripped) == 1 and stripped.upper() in LETTERS else normalize_option_text(stripped)
        )

    def equivalent(self, pred: str | None, gold: str) -> bool:
        if pred is None or not isinstance(pred, str) or not isinstance(gold, str):
            return False
        gold_letter, gold_text = parse_gold(gold)
        pred_letter, pred_text = parse_gold(pred)
        if pred_letter is not None:
            return pred_letter == gold_letter
        return bool(pred_text) and pred_text == gold_text
