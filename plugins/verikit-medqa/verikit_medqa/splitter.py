"""Clinical reasoning is prose: one step per sentence (or line), abbreviations and decimals not cut."""

from __future__ import annotations

import re
from collections.abc import Sequence

from verikit.interfaces import StepSplitter

# Words whose trailing period does not end a sentence in clinical text.
ABBREVIATIONS = frozenset(
    "e.g i.e vs etc dr mr mrs ms prof approx fig no st jr sr cf al resp yr yrs wk wks hr hrs min max".split()
)
# A sentence end: ., ! or ? (closing quotes/brackets kept with it) and the whitespace after it; or a newline.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+|\n\s*")
_LAST_WORD = re.compile(r"([\w.]+)$")


class ClinicalSentenceSplitter(StepSplitter):
    """One step per sentence or line of prose reasoning; each step keeps the whitespace that follows it.

    So ``join`` is plain concatenation and ``join(split(t)) == t`` for every string, and the prefix a
    completer continues from (``join(steps[:k] + [""])``) is exactly the text the model wrote. A
    period after an abbreviation (``e.g.``, ``vs.``, ``Dr.``) or inside a number (``2.5 mg``) is not a
    boundary; whitespace-only pieces stay attached to a step, so no step is empty.
    """

    name = "clinical-sentences"

    def split(self, text: str) -> list[str]:
        if not text:
            return []
        steps, start = [], 0
        for match in _BOUNDARY.finditer(text):
            end = match.end()
            piece = text[start:end]
            if not piece.strip() or self._after_abbreviation(text, match):
                continue
            steps.append(piece)
            start = end
        if start < len(text):
            if steps and not text[start:].strip():
                steps[-1] += text[start:]
            else:
                steps.append(text[start:])
        return steps

    def join(self, steps: Sequence[str]) -> str:
        return "".join(steps)

    @staticmethod
    def _after_abbreviation(text: str, match: re.Match) -> bool:
        """Whether the boundary ``match`` is a period right after an abbreviation such as ``e.g`` or ``Dr``."""
        if text[match.start()] != ".":
            return False
        word = _LAST_WORD.search(text, max(0, match.start() - 40), match.start())
        return bool(word) and word.group(1).lower().rstrip(".") in ABBREVIATIONS
