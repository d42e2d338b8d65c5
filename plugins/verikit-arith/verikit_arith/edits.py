"""Contrastive edits: a correct solution with one step made wrong, to ask a reward model "is this step right?".

For each step of a problem's reference solution, :func:`contrastive_edits` yields the correct prefix ending at
that step and the same prefix with the step replaced by a wrong one. A causal reward model scores step ``k``
from the prefix alone, so the pair differs only in what is being judged. The edit kinds cover what goes wrong
in this domain, each an illegal move by the exact labeller (:mod:`verikit_arith.labeller`):

* ``result-1`` — the equation's result off by one (``3*4=13``);
* ``result-far`` — off by 2 to 10, or by ten (``7*8=46``), never by one;
* ``operand`` — a true equation on a number that is not the one the expression has there (``3*5=15`` for ``3*4``);
* ``operation`` — a true equation with another operator (``3+4=7`` for ``3*4``);
* ``order`` — a true equation on two numbers the expression has, reduced in an order that changes its value
  (``7+3=10`` first in ``7+3*4``);
* ``answer`` — the final line's number off by 1 to 10 after a correct solution.

Every edit is confirmed wrong by the exact labeller before it is used (an edit that happens to be a legal move,
e.g. ``3*7`` when the expression also holds ``3*7`` elsewhere, is dropped), and every correct prefix is confirmed
right. The edits are drawn with a seeded ``random.Random``, so a probe set is the same on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from verikit.types import Problem
from verikit_arith.expressions import Expression, apply, canonical_index, evaluate, parse, reduce_at
from verikit_arith.labeller import step_correctness
from verikit_arith.problems import answer_text, step_text

EDIT_KINDS = ("result-1", "result-far", "operand", "operation", "order", "answer")


@dataclass(frozen=True)
class ContrastivePair:
    """A correct prefix and the same prefix with its last step made wrong (``position`` is 1-based)."""

    question: str
    good: tuple[str, ...]
    bad: tuple[str, ...]
    position: int
    kind: str


def _whole(value) -> int | None:
    return int(value) if value is not None and value.denominator == 1 and value >= 0 else None


def _wrong_steps(state: Expression, index: int, number: int, rng: random.Random) -> dict[str, str]:
    """One wrong version of the reference step at ``index`` of ``state`` per kind that exists here."""
    left, operator, right = state[index - 1], state[index], state[index + 1]
    value = _whole(apply(left, operator, right))
    wrong: dict[str, str] = {}
    off_by_one = [value + d for d in (-1, 1) if value + d >= 0]
    wrong["result-1"] = step_text(number, left, operator, right, rng.choice(off_by_one))
    far = [value + d for d in (-10, -5, -4, -3, -2, 2, 3, 4, 5, 10) if value + d >= 0]
    wrong["result-far"] = step_text(number, left, operator, right, rng.choice(far))
    others = sorted({t for t in state[::2] if t != right} | {right + d for d in (-2, 2, 3) if right + d >= 1} - {right})
    candidates = [(o, _whole(apply(left, operator, o))) for o in others]
    candidates = [(o, v) for o, v in candidates if v is not None and v != value]
    if candidates:
        other, result = rng.choice(candidates)
        wrong["operand"] = step_text(number, left, operator, other, result)
    swaps = [(o, _whole(apply(left, o, right))) for o in ("+", "-", "*") if o != operator]
    swaps = [(o, v) for o, v in swaps if v is not None and v != value]
    if swaps:
        swapped, result = rng.choice(swaps)
        wrong["operation"] = step_text(number, left, swapped, right, result)
    target = evaluate(state)
    orders = []
    for j in range(1, len(state), 2):
        if j == index:
            continue
        reduced, result = reduce_at(state, j)
        if _whole(result) is not None and evaluate(reduced) != target:
            orders.append(step_text(number, state[j - 1], state[j], state[j + 1], int(result)))
    if orders:
        wrong["order"] = rng.choice(orders)
    return wrong


def contrastive_edits(
    problem: Problem, rng: random.Random, kinds: tuple[str, ...] = EDIT_KINDS
) -> Iterator[ContrastivePair]:
    """Every (position, kind) pair of ``problem``'s reference solution that exists (see the module docstring)."""
    unknown = set(kinds) - set(EDIT_KINDS)
    if unknown:
        raise ValueError(f"unknown edit kinds {sorted(unknown)}; choose from {', '.join(EDIT_KINDS)}")
    state = parse(problem.metadata.get("expression") or problem.question.removesuffix("=?"))
    if state is None:
        raise ValueError(f"problem {problem.id!r}: not an arith expression: {problem.question!r}")

    def pair(steps: list[str], good: str, bad: str, kind: str) -> ContrastivePair | None:
        right, wrong = step_correctness(problem, [*steps, good]), step_correctness(problem, [*steps, bad])
        if not all(right) or wrong[-1]:
            return None  # the edit is a legal move after all (or the reference is not): nothing to contrast
        return ContrastivePair(problem.question, (*steps, good), (*steps, bad), len(steps) + 1, kind)

    steps: list[str] = []
    while len(state) > 1:
        index = canonical_index(state)
        reduced, value = reduce_at(state, index)
        good = step_text(len(steps) + 1, state[index - 1], state[index], state[index + 1], int(value))
        for kind, bad in _wrong_steps(state, index, len(steps) + 1, rng).items():
            if kind in kinds and (made := pair(steps, good, bad, kind)) is not None:
                yield made
        steps.append(good)
        state = reduced
    if "answer" in kinds:
        answer = int(state[0])
        wrong = rng.choice([answer + d for d in (-10, -3, -2, -1, 1, 2, 3, 10) if answer + d >= 0])
        if (made := pair(steps, answer_text(answer), answer_text(wrong), "answer")) is not None:
            yield made


def probe_pairs(
    preset: str, split: str, limit: int | None = None, seed: int = 0, kinds: tuple[str, ...] = EDIT_KINDS
) -> list[ContrastivePair]:
    """The contrastive pairs of every problem of a preset's split (seeded by preset, split and ``seed``)."""
    from verikit_arith.problems import load_split

    rng = random.Random(f"contrastive:{preset}:{split}:{seed}")
    return [
        pair for problem in load_split(preset, split, limit=limit) for pair in contrastive_edits(problem, rng, kinds)
    ]
