"""Step splitters for math solutions."""

from __future__ import annotations

from collections.abc import Sequence

from verikit.default_plugins.splitters import LineSplitter
from verikit.interfaces import StepSplitter


class GSM8KSplitter(LineSplitter):
    """GSM8K solutions: one step per line (the ``#### n`` line is the last step); exact round trip."""

    name = "gsm8k"


_OPENERS = {"$$": "$$", "\\[": "\\]", "[asy]": "[/asy]", "\\begin{align": "\\end{align"}


class MATHSplitter(StepSplitter):
    """MATH solutions: one step per blank-line-separated paragraph, never cutting inside display math
    (``$$…$$``, ``\\[…\\]``, ``\\begin{align}``) or an ``[asy]`` picture. ``join(split(t)) == t`` for every t."""

    name = "math"
    separator = "\n\n"

    def split(self, text: str) -> list[str]:
        if not text:
            return []
        steps: list[str] = []
        current: list[str] = []
        closer: str | None = None
        for chunk in text.split(self.separator):
            current.append(chunk)
            closer = self._still_open(chunk, closer)
            if closer is None:
                steps.append(self.separator.join(current))
                current = []
        if current:
            steps.append(self.separator.join(current))
        return steps

    @staticmethod
    def _still_open(chunk: str, closer: str | None) -> str | None:
        """The closing delimiter still awaited after reading ``chunk`` (``None`` when nothing is open)."""
        index = 0
        while True:
            if closer is not None:
                position = chunk.find(closer, index)
                if position < 0:
                    return closer
                index, closer = position + len(closer), None
                continue
            hits = [(chunk.find(o, index), o) for o in _OPENERS if chunk.find(o, index) >= 0]
            if not hits:
                return None
            position, opener = min(hits)
            index, closer = position + len(opener), _OPENERS[opener]

    def join(self, steps: Sequence[str]) -> str:
        return self.separator.join(steps)
