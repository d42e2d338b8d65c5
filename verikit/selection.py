"""Choosing one answer among sampled solutions. Majority voting (self-consistency) lives here; the
reward-model selectors build on the same helpers."""

from __future__ import annotations

from collections.abc import Sequence


def majority_answer(answers: Sequence[str | None], weights: Sequence[float] | None = None) -> str | None:
    """The answer with the largest total weight (count by default), ignoring ``None``.

    Ties go to the answer that appeared first, so the result does not depend on hash order.

    >>> majority_answer(["3", None, "4", "4", "3"])
    '3'
    >>> majority_answer(["3", "4", "4"], weights=[0.9, 0.1, 0.2])
    '3'
    """
    totals: dict[str, float] = {}
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        totals[answer] = totals.get(answer, 0.0) + (1.0 if weights is None else float(weights[index]))
    if not totals:
        return None
    best = max(totals.values())
    return next(answer for answer, total in totals.items() if total == best)
