"""Seeded problems and worked solutions of the synthetic arithmetic domain.

A problem is a flat expression (``7+3*4-2``); its solution reduces one operation per step, then states
the answer::

    Step 1: 3*4=12
    Step 2: 7+12=19
    Step 3: 19-2=17
    The answer is 17

The steps do not restate what is left of the expression: the model has to keep track of it, which is
where a small model slips (and the format stays short, so training sees more examples per second).

Splits are fixed by the preset's seed: dev and test are drawn first and train never repeats one of them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from verikit.errors import DataError
from verikit.types import Problem
from verikit_arith.expressions import Expression, canonical_index, evaluate, parse, reduce_at, render
from verikit_arith.presets import Preset, get_preset

SPLITS = ("train", "dev", "test")
_SPLIT_STREAM = {"test": 1, "dev": 2, "train": 3}


def question_text(expression: Expression) -> str:
    return f"{render(expression)}=?"


#: What the generator is shown (training, evaluation and the domain's prompt all use it); the solution
#: continues right after it.
PROMPT_TEMPLATE = "{question}\n"


def prompt_text(problem: Problem) -> str:
    return PROMPT_TEMPLATE.format(question=problem.question)


def step_text(index: int, left, operator: str, right, result) -> str:
    return f"Step {index}: {left}{operator}{right}={result}"


def answer_text(answer) -> str:
    return f"The answer is {answer}"


def canonical_steps(expression: Expression) -> list[str]:
    """The reference solution: standard precedence, leftmost first, then the answer line."""
    steps, state = [], expression
    while len(state) > 1:
        index = canonical_index(state)
        new_state, value = reduce_at(state, index)
        steps.append(step_text(len(steps) + 1, state[index - 1], state[index], state[index + 1], int(value)))
        state = new_state
    steps.append(answer_text(state[0]))
    return steps


def _canonical_values(expression: Expression) -> list | None:
    values, state = [], expression
    while len(state) > 1:
        state, value = reduce_at(state, canonical_index(state))
        if value is None or value.denominator != 1:
            return None
        values.append(value)
    return values


def draw_expression(rng: random.Random, preset: Preset) -> Expression:
    """A random expression whose standard-order steps are all whole numbers in ``[0, max_intermediate]``."""
    while True:
        n_ops = rng.randint(preset.min_ops, preset.max_ops)
        tokens: list = [rng.randint(1, preset.max_operand)]
        for _ in range(n_ops):
            tokens += [rng.choice(preset.operators), rng.randint(1, preset.max_operand)]
        expression = tuple(tokens)
        values = _canonical_values(expression)
        if values is not None and all(0 <= v <= preset.max_intermediate for v in values):
            return expression


def make_problem(expression_text: str, preset: str, problem_id: str, split: str | None = None) -> Problem:
    """A :class:`Problem` for an expression; a malformed or non-integer expression is a clear error."""
    if not expression_text or not expression_text.strip():
        raise DataError("empty problem: an arith problem needs an expression such as '7+3*4-2'")
    expression = parse(expression_text)
    if expression is None or len(expression) < 3:
        raise DataError(f"not an arithmetic expression with at least one operation: {expression_text!r}")
    value = evaluate(expression)
    if value is None or value.denominator != 1:
        raise DataError(f"expression {expression_text!r} has no whole-number answer ({value})")
    return Problem(
        id=problem_id,
        question=question_text(expression),
        gold_answer=str(int(value)),
        domain="arith",
        gold_solution="\n".join(canonical_steps(expression)),
        gold_steps=canonical_steps(expression),
        metadata={"preset": preset, "split": split, "expression": render(expression)},
    )


def _stream(preset: Preset, split: str) -> Iterator[Expression]:
    rng = random.Random(f"{preset.name}:{preset.seed}:{_SPLIT_STREAM[split]}")
    while True:
        yield draw_expression(rng, preset)


def load_split(preset_name: str, split: str = "test", limit: int | None = None) -> list[Problem]:
    """The fixed problems of ``split`` (``train``/``dev``/``test``) of a preset."""
    preset = get_preset(preset_name)
    if split not in SPLITS:
        raise DataError(f"arith has no split {split!r}; choose one of {', '.join(SPLITS)}")
    size = {"train": preset.n_train, "dev": preset.n_dev, "test": preset.n_test}[split]
    if limit is not None:
        size = min(size, limit)
    held_out: set[Expression] = set()
    if split != "test":
        held_out |= _unique(preset, "test", preset.n_test, set())
    if split == "train":
        held_out |= _unique(preset, "dev", preset.n_dev, held_out)
    expressions = _unique(preset, split, size, held_out, ordered=True)
    return [
        make_problem(render(e), preset.name, f"{preset.name}-{split}-{i}", split) for i, e in enumerate(expressions)
    ]


def _unique(preset: Preset, split: str, size: int, excluded: set, ordered: bool = False):
    seen: dict[Expression, None] = {}
    for expression in _stream(preset, split):
        if len(seen) >= size:
            break
        if expression not in excluded:
            seen.setdefault(expression, None)
    return list(seen) if ordered else set(seen)


def training_expressions(preset_name: str, seed: int = 0) -> Iterator[Expression]:
    """An endless stream of training expressions that never repeats a dev or test problem."""
    preset = get_preset(preset_name)
    held_out = _unique(preset, "test", preset.n_test, set()) | _unique(preset, "dev", preset.n_dev, set())
    rng = random.Random(f"{preset.name}:{preset.seed}:train-stream:{seed}")
    while True:
        expression = draw_expression(rng, preset)
        if expression not in held_out:
            yield expression
