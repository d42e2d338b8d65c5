"""Worked solutions with realistic mistakes, so a generator trained on them fails at varied steps.

Each mistake is one of the slips people (and small models) make, at a random step, after which the
solution carries on *correctly from the wrong state*, so the final answer is wrong in a consistent way:

* ``slip``      — the arithmetic of one operation is off (``7*8=54``);
* ``order``     — an operation is done out of precedence order (``7+3=10`` in ``7+3*4``);
* ``operand``   — a right equation on a wrong operand (``3*5=15`` where the expression says ``3*4``).
"""

from __future__ import annotations

import random

from verikit_arith.expressions import Expression, apply, canonical_index, evaluate, reduce_at
from verikit_arith.problems import answer_text, canonical_steps, step_text

MISTAKE_KINDS = ("slip", "order", "operand")


def _slipped(value: int, rng: random.Random) -> int:
    wrong = value + rng.choice([-10, -2, -1, 1, 2, 10])
    return wrong if wrong >= 0 else value + 1


def solution_with_mistake(expression: Expression, rng: random.Random, kind: str | None = None) -> tuple[list[str], int]:
    """Steps of a solution with one mistake, and the 0-based index of the wrong step.

    Returns the canonical steps and ``-1`` if the drawn mistake is impossible here (e.g. ``order`` in an
    expression with a single operation, or a division that would not be whole).
    """
    kind = kind or rng.choice(MISTAKE_KINDS)
    n_steps = (len(expression) - 1) // 2
    wrong_at = rng.randrange(n_steps)
    steps: list[str] = []
    state = expression
    mistake_index = -1
    while len(state) > 1:
        index = canonical_index(state)
        left, operator, right = state[index - 1], state[index], state[index + 1]
        if len(steps) == wrong_at and mistake_index < 0:
            made = _make_mistake(state, index, kind, rng)
            if made is not None:
                (left, operator, right, result), state = made
                mistake_index = len(steps)
                steps.append(step_text(len(steps) + 1, left, operator, right, result))
                continue
        new_state, value = reduce_at(state, index)
        if value is None or value.denominator != 1:  # the wrong state made a division inexact: stop here
            return canonical_steps(expression), -1
        state = new_state
        steps.append(step_text(len(steps) + 1, left, operator, right, int(value)))
    if mistake_index < 0:
        return canonical_steps(expression), -1
    steps.append(answer_text(state[0]))
    return steps, mistake_index


def mistaken_step(state: Expression, index: int, rng: random.Random) -> tuple | None:
    """``(left, operator, right, result)`` of one wrong move where the reference reduces ``state`` at ``index``, of
    a kind drawn from :data:`MISTAKE_KINDS`; None if that kind is impossible here or the move keeps the expression's
    value (an order swap like ``4+5`` first in ``2+4+5`` is no mistake)."""
    made = _make_mistake(state, index, rng.choice(MISTAKE_KINDS), rng)
    if made is None or evaluate(made[1]) == evaluate(state):
        return None
    return made[0]


def slipped_answer(answer: int, rng: random.Random) -> int:
    """A wrong final answer near ``answer`` (off by 1, 2 or 10; never negative)."""
    return _slipped(answer, rng)


def _make_mistake(state: Expression, index: int, kind: str, rng: random.Random):
    left, operator, right = state[index - 1], state[index], state[index + 1]
    if kind == "slip":
        value = apply(left, operator, right)
        if value is None or value.denominator != 1:
            return None
        wrong = _slipped(int(value), rng)
        return (left, operator, right, wrong), state[: index - 1] + (wrong,) + state[index + 2 :]
    if kind == "order":
        others = [i for i in range(1, len(state), 2) if i != index]
        if not others:
            return None
        other = rng.choice(others)
        new_state, value = reduce_at(state, other)
        if value is None or value.denominator != 1:
            return None
        return (state[other - 1], state[other], state[other + 1], int(value)), new_state
    if kind == "operand":
        wrong_right = _slipped(right, rng) if right > 2 else right + 1
        value = apply(left, operator, wrong_right)
        if value is None or value.denominator != 1:
            return None
        return (left, operator, wrong_right, int(value)), state[: index - 1] + (int(value),) + state[index + 2 :]
    raise ValueError(f"unknown mistake kind {kind!r}; choose one of {', '.join(MISTAKE_KINDS)}")
