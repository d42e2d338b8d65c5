"""How good a reward model is at judging steps: the ProcessBench protocol and ranking metrics.

Rows are ProcessBench rows (:mod:`verikit.rm.processbench`).

* first-error: the predicted first error is the first step scoring below a threshold τ (−1 if none);
  accuracy on erroneous rows, on correct rows, and their harmonic mean (ProcessBench's F1). τ is chosen
  on a *dev* file and applied unchanged to the test file.
* ``step_auc``: ROC-AUC of step scores against step verdicts (``step_labels``, else the ProcessBench
  reading: steps before ``label`` good, the step at ``label`` wrong, later steps not counted).
* ``solution_auc``: ROC-AUC of the aggregated score against final-answer correctness.
* ``pairwise_auc``: within one problem, how often a correct solution outscores a wrong one — the number
  that decides best-of-N, which a global AUC hides when a model learns problem difficulty instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from verikit.rm.scorer import aggregate

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


def predicted_first_error(step_scores: Sequence[float], threshold: float) -> int:
    return next((i for i, s in enumerate(step_scores) if s < threshold), -1)


def first_error_scores(rows: Sequence[dict], step_scores: Sequence[Sequence[float]], threshold: float) -> dict:
    """ProcessBench's accuracies and F1; a class with no rows gets ``None`` (and so does the F1)."""
    erroneous = [(r, s) for r, s in zip(rows, step_scores) if r["label"] != -1]
    correct = [(r, s) for r, s in zip(rows, step_scores) if r["label"] == -1]
    acc_err = sum(predicted_first_error(s, threshold) == r["label"] for r, s in erroneous) / len(erroneous) if erroneous else None
    acc_ok = sum(predicted_first_error(s, threshold) == -1 for r, s in correct) / len(correct) if correct else None
    if acc_err is None or acc_ok is None:
        f1 = None
    else:
        f1 = 0.0 if acc_err + acc_ok == 0 else 2 * acc_err * acc_ok / (acc_err + acc_ok)
    return {"first_error_f1": f1, "acc_erroneous": acc_err, "acc_correct": acc_ok, "threshold": threshold,
            "n_erroneous": len(erroneous), "n_correct": len(correct)}


def _selection_value(scores: dict) -> float:
    """What threshold selection maximises: the F1, or the one accuracy defined when dev has a single class."""
    for key in ("first_error_f1", "acc_erroneous", "acc_correct"):
        if scores[key] is not None:
            return scores[key]
    return 0.0


def choose_threshold(rows: Sequence[dict], step_scores: Sequence[Sequence[float]]) -> float:
    """The τ that maximises first-error F1 on these (dev) rows, from the midpoints of observed scores."""
    values = sorted({round(v, 6) for s in step_scores for v in s})
    candidates = [0.5] + [(a + b) / 2 for a, b in zip(values, values[1:])] + [values[-1] + 1e-6 if values else 1.0]
    if len(candidates) > 400:  # a grid of quantiles is as good and keeps this linear
        step = len(candidates) / 400
        candidates = [candidates[int(i * step)] for i in range(400)]
    return max(candidates, key=lambda t: (_selection_value(first_error_scores(rows, step_scores, t)), -abs(t - 0.5)))


def step_verdicts(row: dict) -> list[bool | None]:
    if row.get("step_labels") is not None:
        return [bool(v) for v in row["step_labels"]]
    label = row["label"]
    if label == -1:
        return [True] * len(row["steps"])
    return [True] * label + [False] + [None] * (len(row["steps"]) - label - 1)


def evaluate_scores(rows: Sequence[dict], step_scores: Sequence[Sequence[float]], threshold: float, agg: str = "min") -> dict:
    """Every metric of the module docstring for one model's step scores on ``rows``."""
    flat_scores, flat_labels = [], []
    for row, scores in zip(rows, step_scores):
        for score, verdict in zip(scores, step_verdicts(row)):
            if verdict is not None:
                flat_scores.append(score)
                flat_labels.append(verdict)
    solution = {i: aggregate(s, agg) for i, s in enumerate(step_scores)}
    correct = {i: bool(r["final_answer_correct"]) for i, r in enumerate(rows)}
    groups: dict = defaultdict(list)
    for i, row in enumerate(rows):
        groups[row.get("problem_id", row["problem"])].append(i)
    return {
        "step_auc": roc_auc(flat_scores, flat_labels),
        "solution_auc": roc_auc(list(solution.values()), list(correct.values())),
        "pairwise_auc": pairwise_auc(groups, solution, correct),
        **first_error_scores(rows, step_scores, threshold),
        "aggregation": agg,
        "rows": len(rows),
    }


def evaluate_model(scorer, dev_rows: Sequence[dict], test_rows: Sequence[dict], agg: str = "min") -> dict:
    """Threshold from ``dev_rows``, every metric on ``test_rows``."""
    dev_scores = scorer.score([r["problem"] for r in dev_rows], [r["steps"] for r in dev_rows])
    threshold = choose_threshold(dev_rows, dev_scores)
    test_scores = scorer.score([r["problem"] for r in test_rows], [r["steps"] for r in test_rows])
    return evaluate_scores(test_rows, test_scores, threshold, agg)
