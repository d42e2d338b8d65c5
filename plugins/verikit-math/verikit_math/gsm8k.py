"""The GSM8K answer checker: the number after ``####``, after "The answer is", or the last number."""

from __future__ import annotations

import re

from verikit.interfaces import AnswerChecker
from verikit_math.latex import last_boxed
from verikit_math.numbers import canonical_decimal, numbers_equal

# A number as people write it: optional sign and currency, thousands commas, decimals, percent.
_NUMBER = re.compile(r"(?<![\w.])-?\s?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)|(?<![\w\d])-?\.\d+")
_HASHES = re.compile(r"####\s*([^\n]*)")
_ANSWER_IS = re.compile(r"answer is\s*:?\s*([^\n]*)", re.IGNORECASE)
#: Only this much of the end of a solution is searched: the answer is at the end, and a 10 MB
#: adversarial string must not cost a full regex scan per call.
_TAIL = 20_000


def _clean_number(raw: str) -> str | None:
    text = raw.replace("$", "").replace(",", "").replace(" ", "")
    return canonical_decimal(text)


def _first_number(fragment: str) -> str | None:
    match = _NUMBER.search(fragment)
    return _clean_number(match.group(0)) if match else None


class GSM8KChecker(AnswerChecker):
    """Numeric answers as in GSM8K: ``#### 1,234``, ``The answer is: $18.00``, ``50%``, ``18 dollars``.

    ``extract`` returns a canonical decimal string (``"1234"``, ``"18"``, ``"-0.5"``) or ``None``;
    ``equivalent`` compares exact values (``"18.00"`` equals ``"18"``, ``"1/2"`` equals ``"0.5"``).
    """

    name = "gsm8k"

    def extract(self, text: str) -> str | None:
        if not isinstance(text, str) or not text:
            return None
        tail = text[-_TAIL:]
        boxed = last_boxed(tail)  # nested braces too: "\\boxed{4 \\text{ weeks}}", "\\boxed{\\text{Total: } 18}"
        for found in (_HASHES.findall(tail), [boxed] if boxed is not None else [], _ANSWER_IS.findall(tail)):
            if found:
                number = _first_number(found[-1])
                if number is not None:
                    return number
        numbers = _NUMBER.findall(tail)
        return _clean_number(numbers[-1]) if numbers else None

    def normalize(self, answer: str | None) -> str | None:
        if answer is None:
            return None
        cleaned = answer.strip().rstrip(".%").replace(",", "").replace("$", "").strip()
        return canonical_decimal(cleaned) or cleaned

    def equivalent(self, pred: str | None, gold: str) -> bool:
        if pred is None or not isinstance(gold, str):
            return False
        p, g = self.normalize(pred), self.normalize(gold)
        if p is None or g is None:
            return False
        return bool(numbers_equal(p, g))  # GSM8K answers are numbers: a gold that is not one grades nothing
