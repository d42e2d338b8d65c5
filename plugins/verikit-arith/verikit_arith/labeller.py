"""Exact gold step labels for arith solutions: the ground truth that Monte Carlo labels are measured against.

A step is correct iff every step up to it is correct and it is a *legal* move from the expression left
so far: its equation ``a op b = c`` is true, ``a op b`` stands adjacent in that expression, and replacing
it by ``c`` keeps the expression's value (so ``7+3`` in ``7+3*4`` is wrong, ``4+5`` in ``2+4+5`` is fine:
the intended order may vary wherever the value allows). The expression left after each step is tracked
exactly (as the set of expressions the legal moves so far can have produced).
The final line ``The answer is N`` is correct iff the steps before it reached the single number ``N``,
which equals the gold answer. So the labels say whether "the prefix up to this step can still reach
the gold answer" by correct work — Math-Shepherd's notion of a good step, known here exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from verikit.errors import DataError
from verikit.metrics import first_error  # noqa: F401  (re-exported for this domain's users)
from verikit.types import Problem
from verikit_arith.expressions import Expression, apply, evaluate, parse

_STEP = re.compile(r"^Step (\d+): (-?\d+)([+\-*/])(-?\d+)=(-?\d+)$")
_ANSWER = re.compile(r"^The answer is (-?\d+)$")
_MAX_STATES = 64  # distinct states reachable by legal reorderings; bounds work on long expressions


def _initial_expression(problem: Problem) -> Expression:
    text = problem.metadata.get("expression") or problem.question.removesuffix("=?")
    expression = parse(text)
    if expression is None:
        raise DataError(
            f"problem {problem.id!r}: question {problem.question!r} is not an arith expression", field="question"
        )
    try:
        gold = int(problem.gold_answer)
    except ValueError:
        raise DataError(
            f"problem {problem.id!r}: gold answer {problem.gold_answer!r} is not an integer", field="gold_answer"
        ) from None
    if evaluate(expression) != gold:
        raise DataError(
            f"problem {problem.id!r}: gold answer {gold} differs from the expression's value {evaluate(expression)}",
            field="gold_answer",
        )
    return expression


def _legal_moves(states: set[Expression], left: int, operator: str, right: int, result: int) -> set[Expression]:
    reached = set()
    for state in states:
        target = evaluate(state)
        for i in range(1, len(state) - 1, 2):
            if state[i] == operator and state[i - 1] == left and state[i + 1] == right:
                new_state = state[: i - 1] + (result,) + state[i + 2 :]
                if evaluate(new_state) == target:
                    reached.add(new_state)
    return reached


def parse_step(line: str) -> tuple[int, int, str, int, int] | None:
    """``(number, left, operator, right, result)`` of a ``Step k: a op b=c`` line (stripped), or None."""
    match = _STEP.match(line)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), match.group(3), int(match.group(4)), int(match.group(5))


def step_correctness(problem: Problem, steps: Sequence[str]) -> list[bool]:
    """One exact verdict per step (see the module docstring). Steps are lines of a solution."""
    states: set[Expression] = {_initial_expression(problem)}
    gold = int(problem.gold_answer)
    labels: list[bool] = []
    alive = True
    for position, raw in enumerate(steps, start=1):
        step = raw.strip()
        verdict = False
        if alive:
            parsed = parse_step(step)
            answer = _ANSWER.match(step)
            if parsed and parsed[0] == position:
                _, left, operator, right, result = parsed
                value = apply(left, operator, right)
                if value is not None and value == result:
                    moved = _legal_moves(states, left, operator, right, result)
                    if moved:
                        states = set(list(moved)[:_MAX_STATES])
                        verdict = True
            elif answer:
                verdict = any(len(s) == 1 for s in states) and int(answer.group(1)) == gold
        labels.append(verdict)
        alive = verdict
    return labels
