"""The numbers every stage reports, in one place: aggregation of step scores, ranking AUCs, ProcessBench's
first-error F1, agreement of step labels with gold, and bootstrap intervals.

scikit-learn computes ROC-AUC and precision/recall/F1, numpy draws the bootstrap; what is written here is
what neither library has: the within-problem pairwise AUC (best-of-N's own number, which a global AUC hides
when a model learns problem difficulty) and ProcessBench's first-error protocol.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from verikit.errors import DataError

AGGREGATIONS = ("min", "prod", "last", "mean")


def aggregate(step_scores: Sequence[float], how: str = "min") -> float:
    """One solution score from its step scores: ``min`` (the paper), ``prod``, ``last`` or ``mean``."""
    if not step_scores:
        raise DataError("a solution with no scored steps cannot be aggregated")
    if how == "min":
        return min(step_scores)
    if how == "prod":
        return math.prod(step_scores)
    if how == "last":
        return step_scores[-1]
    if how == "mean":
        return sum(step_scores) / len(step_scores)
    raise ValueError(f"unknown aggregation {how!r}; choose one of {', '.join(AGGREGATIONS)}")


def roc_auc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """ROC-AUC (ties count half); None when one class is absent."""
    from sklearn.metrics import roc_auc_score

    if len(set(positives)) < 2:
        return None
    return float(roc_auc_score([bool(p) for p in positives], list(scores)))


def pairwise_auc(groups: dict, scores: dict, correct: dict) -> float | None:
    """Within-problem ranking: over every (correct, wrong) pair of one problem, P(correct scores higher)."""
    wins = pairs = 0.0
    for members in groups.values():
        good = [scores[m] for m in members if correct[m]]
        bad = [scores[m] for m in members if not correct[m]]
        for g in good:
            for b in bad:
                wins += 1.0 if g > b else 0.5 if g == b else 0.0
                pairs += 1
    return None if not pairs else wins / pairs


def first_error(flags: Sequence[bool]) -> int:
    """Index of the first false verdict, or -1 if none (ProcessBench's convention)."""
    return next((i for i, ok in enumerate(flags) if not ok), -1)


def predicted_first_error(step_scores: Sequence[float], threshold: float) -> int:
    """The first step scoring below ``threshold``, or -1."""
    return first_error([score >= threshold for score in step_scores])


def first_error_scores(labels: Sequence[int], step_scores: Sequence[Sequence[float]], threshold: float) -> dict:
    """ProcessBench's accuracies and F1 for rows whose first wrong step is ``labels[i]`` (-1: none wrong).

    A class with no rows gets ``None`` (and so does the F1).
    """
    predicted = [predicted_first_error(s, threshold) for s in step_scores]
    erroneous = [p == label for p, label in zip(predicted, labels) if label != -1]
    correct = [p == -1 for p, label in zip(predicted, labels) if label == -1]
    acc_err = sum(erroneous) / len(erroneous) if erroneous else None
    acc_ok = sum(correct) / len(correct) if correct else None
    if acc_err is None or acc_ok is None:
        f1 = None
    else:
        f1 = 0.0 if acc_err + acc_ok == 0 else 2 * acc_err * acc_ok / (acc_err + acc_ok)
    return {
        "first_error_f1": f1,
        "acc_erroneous": acc_err,
        "acc_correct": acc_ok,
        "threshold": threshold,
        "n_erroneous": len(erroneous),
        "n_correct": len(correct),
    }


def _selection_value(scores: dict) -> float:
    """What threshold selection maximises: the F1, or the one accuracy defined when dev has a single class."""
    for key in ("first_error_f1", "acc_erroneous", "acc_correct"):
        if scores[key] is not None:
            return scores[key]
    return 0.0


def choose_threshold(labels: Sequence[int], step_scores: Sequence[Sequence[float]]) -> float:
    """The τ that maximises first-error F1 on these (dev) rows, from the midpoints of observed scores."""
    values = sorted({round(v, 6) for s in step_scores for v in s})
    candidates = [0.5] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6 if values else 1.0]
    if len(candidates) > 400:  # a grid of quantiles is as good and keeps this linear
        step = len(candidates) / 400
        candidates = [candidates[int(i * step)] for i in range(400)]
    return max(candidates, key=lambda t: (_selection_value(first_error_scores(labels, step_scores, t)), -abs(t - 0.5)))


def label_agreement_scores(predicted: Sequence[Sequence[bool]], gold: Sequence[Sequence[bool]]) -> dict:
    """Step labels against gold: accuracy, precision/recall/F1 of the ``-`` class (the rare one that matters),
    and how often the first ``-`` falls on the gold first error."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    flat_pred = [bool(p) for ps in predicted for p in ps]
    flat_gold = [bool(g) for gs in gold for g in gs]
    if not flat_gold or len(flat_pred) != len(flat_gold):
        raise DataError(f"{len(flat_pred)} predicted step labels for {len(flat_gold)} gold ones")
    precision, recall, f1, _ = precision_recall_fscore_support(
        flat_gold, flat_pred, pos_label=False, average="binary", zero_division=0
    )
    agreement = sum(first_error(p) == first_error(g) for p, g in zip(predicted, gold)) / len(gold)
    return {
        "accuracy": float(accuracy_score(flat_gold, flat_pred)),
        "precision_negative": float(precision),
        "recall_negative": float(recall),
        "f1_negative": float(f1),
        "first_error_agreement": agreement,
    }


def bootstrap_accuracy(verdicts: Sequence[bool], seed: int = 0, repeats: int = 1000) -> dict:
    """Accuracy of per-item verdicts with a 95% percentile-bootstrap interval over the items."""
    import numpy as np

    values = np.asarray(verdicts, dtype=float)
    if not len(values):
        raise DataError("no verdicts to bootstrap")
    draws = np.random.default_rng(seed).integers(0, len(values), size=(repeats, len(values)))
    means = values[draws].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return {"acc": float(values.mean()), "ci_low": float(low), "ci_high": float(high)}


def percentile_interval(values: Sequence[float], around: float) -> tuple[float, float]:
    """The 95% percentile interval of bootstrap ``values``, widened to contain the point estimate ``around``."""
    import numpy as np

    low, high = np.quantile(np.asarray(values, dtype=float), [0.025, 0.975])
    return min(around, float(low)), max(around, float(high))
