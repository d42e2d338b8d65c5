"""Choosing one answer among sampled solutions. Majority voting (self-consistency) lives here; the
reward-model selectors build on the same helpers."""

from __future__ import annotations

from collections.abc import Sequence

from verikit.hookspecs import hookimpl


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


def self_consistency(answers: Sequence[str | None], scores: Sequence[float] | None = None) -> int | None:
    """Index of a sample carrying the majority answer (the first such sample); None if no sample has an answer."""
    chosen = majority_answer(answers)
    return None if chosen is None else list(answers).index(chosen)


def best_of_n(answers: Sequence[str | None], scores: Sequence[float] | None = None) -> int | None:
    """Index of the highest-scoring sample (ties: the first). Samples without an answer can win — and then count
    as wrong — because a reward model that prefers them is making exactly that mistake."""
    if not answers:
        return None
    if scores is None:
        raise ValueError("best-of-n needs one reward-model score per sample")
    best = max(scores)
    return next(i for i, s in enumerate(scores) if s == best)


def sc_plus_rm(answers: Sequence[str | None], scores: Sequence[float] | None = None) -> int | None:
    """Math-Shepherd's SC+RM: the answer with the largest summed score, ``argmax_a Σ_i 1[a_i = a]·RM(s_i)``."""
    if scores is None:
        raise ValueError("sc+rm needs one reward-model score per sample")
    chosen = majority_answer(answers, weights=scores)
    return None if chosen is None else list(answers).index(chosen)


def readable_best_of_n(answers: Sequence[str | None], scores: Sequence[float] | None = None) -> int | None:
    """Best-of-N among samples that have an answer: an unreadable sample never wins (while any readable one exists)."""
    if scores is None:
        raise ValueError("best-of-n-readable needs one reward-model score per sample")
    readable = [i for i, a in enumerate(answers) if a is not None]
    if not readable:
        return None
    best = max(scores[i] for i in readable)
    return next(i for i in readable if scores[i] == best)


#: The core's selectors (registered below like any plugin's): name → ``selector(answers, scores)``.
SELECTORS = {
    "self-consistency": self_consistency,
    "best-of-n": best_of_n,
    "sc+rm": sc_plus_rm,
    "best-of-n-readable": readable_best_of_n,
}


@hookimpl
def register_selectors(register):
    descriptions = {
        "self-consistency": "majority vote over normalised answers",
        "best-of-n": "the highest reward-model score (the paper's PRM/ORM rows)",
        "sc+rm": "the answer with the largest summed score (the paper's SC+RM rows)",
        "best-of-n-readable": "best-of-n among samples that state an answer",
    }
    for name, selector in SELECTORS.items():
        register(name, selector, description=descriptions[name])
