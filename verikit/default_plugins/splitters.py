"""Domain-free step splitters, registered by the core as a default plugin.

* ``lines``       — one step per line; round-trips every string exactly.
* ``paragraphs``  — one step per blank-line-separated block; round-trips every string exactly.
* ``step-prefix`` — steps begin with ``Step k:`` at the start of a line (text before ``Step 1:`` is a step too).
* ``shepherd``    — the Math-Shepherd format: each step ends with the tag `` ки`` and steps are joined by newlines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from verikit.hookspecs import hookimpl
from verikit.interfaces import StepSplitter

STEP_TAG = "ки"


class SeparatorSplitter(StepSplitter):
    """Splits on a fixed separator; ``join(split(t)) == t`` for every string ``t``."""

    separator = "\n"

    def split(self, text: str) -> list[str]:
        return text.split(self.separator) if text else []

    def join(self, steps: Sequence[str]) -> str:
        return self.separator.join(steps)


class LineSplitter(SeparatorSplitter):
    """One step per line; exact round trip for every string."""

    name = "lines"
    separator = "\n"


class ParagraphSplitter(SeparatorSplitter):
    """One step per blank-line-separated paragraph; exact round trip for every string."""

    name = "paragraphs"
    separator = "\n\n"


class StepPrefixSplitter(StepSplitter):
    """Steps start at lines that begin with ``Step <k>:``; the newline before each such line is the separator."""

    name = "step-prefix"
    _boundary = re.compile(r"\n(?=Step \d+:)")

    def split(self, text: str) -> list[str]:
        return self._boundary.split(text) if text else []

    def join(self, steps: Sequence[str]) -> str:
        return "\n".join(steps)


class ShepherdSplitter(StepSplitter):
    """The Math-Shepherd solution format ``Step 1: … ки\\nStep 2: … ки``.

    ``split`` drops the tags (and the newline after each); ``join`` writes them back, so released rows
    round-trip byte for byte. Text after the last tag (a truncated generation) is kept as a final step.
    """

    name = "shepherd"
    tag = STEP_TAG
    _end = " " + STEP_TAG

    def split(self, text: str) -> list[str]:
        if not text:
            return []
        parts = text.split(self._end + "\n")
        last = parts.pop()
        if last.endswith(self._end):
            last = last[: -len(self._end)]
            parts.append(last)
        elif last:
            parts.append(last)
        return parts

    def join(self, steps: Sequence[str]) -> str:
        return "\n".join(f"{step}{self._end}" for step in steps)


@hookimpl
def register_step_splitters(register):
    for cls in (LineSplitter, ParagraphSplitter, StepPrefixSplitter, ShepherdSplitter):
        register(cls.name, cls, description=cls.__doc__.strip().splitlines()[0])
