"""Difficulty presets of the synthetic domain: ``arith-easy`` plays GSM8K's part, ``arith-hard`` MATH's."""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ConfigDict, Field

from verikit.errors import UnknownNameError


class Preset(BaseModel):
    """How problems of one difficulty are drawn. Changing a field changes the problems (and the cache key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    min_ops: int = Field(ge=1)
    max_ops: int = Field(ge=1)
    max_operand: int = Field(ge=2)
    operators: tuple[str, ...] = ("+", "-", "*")
    max_intermediate: int = Field(default=999, description="Bound on every value the standard order computes.")
    n_train: int = 50_000
    n_dev: int = 500
    n_test: int = 500
    seed: int = 0


PRESETS: dict[str, Preset] = {
    "arith-easy": Preset(name="arith-easy", min_ops=3, max_ops=4, max_operand=9, max_intermediate=99),
    # 5-7 operations on 1-20 (the first definition) left a 1M-parameter model at 1% greedy after 14 CPU
    # minutes: it cannot track that much state without restating it. This one is harder than easy on every
    # axis (more steps, two-digit operands, exact division, larger values) and still learnable on a CPU.
    "arith-hard": Preset(
        name="arith-hard", min_ops=4, max_ops=6, max_operand=12, operators=("+", "-", "*", "/"), max_intermediate=150
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name is an error listing the presets (closest first)."""
    try:
        return PRESETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(PRESETS), n=2, cutoff=0.4)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownNameError(f"unknown arith preset {name!r}{hint} (presets: {', '.join(PRESETS)})") from None
