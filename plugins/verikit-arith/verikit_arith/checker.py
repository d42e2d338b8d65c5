"""The arith answer checker: the integer after the last ``The answer is``."""

from __future__ import annotations

import re

from verikit.interfaces import AnswerChecker

_ANSWER = re.compile(r"The answer is (-?\d{1,30})\b")


class ArithChecker(AnswerChecker):
    """``extract`` takes the last ``The answer is N``; nothing else counts (no last-number fallback), so a
    solution that never states its answer is wrong. ``equivalent`` compares integers."""

    name = "arith"

    def extract(self, text: str) -> str | None:
        if not isinstance(text, str):
            return None
        matches = _ANSWER.findall(text[-10_000:])
        return str(int(matches[-1])) if matches else None

    def normalize(self, answer: str | None) -> str | None:
        if answer is None:
            return None
        answer = answer.strip()
        return str(int(answer)) if re.fullmatch(r"-?\d{1,30}", answer) else answer

    def equivalent(self, pred: str | None, gold: str) -> bool:
        if pred is None or not isinstance(gold, str):
            return False
        p, g = self.normalize(pred), self.normalize(gold)
        return p is not None and p == g and re.fullmatch(r"-?\d+", g) is not None
