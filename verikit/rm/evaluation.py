"""How good a reward model is at judging steps: the ProcessBench protocol on ProcessBench rows
(:mod:`verikit.rm.processbench`); the metrics themselves are in :mod:`verikit.metrics`.

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

from verikit.metrics import aggregate, choose_threshold, first_error_scores, pairwise_auc, roc_auc


def step_verdicts(row: dict) -> list[bool | None]:
    if row.get("step_labels") is not None:
        return [bool(v) for v in row["step_labels"]]
    label = row["label"]
    if label == -1:
        return [True] * len(row["steps"])
    return [True] * label + [False] + [None] * (len(row["steps"]) - label - 1)


def evaluate_scores(
    rows: Sequence[dict], step_scores: Sequence[Sequence[float]], threshold: float, agg: str = "min"
) -> dict:
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
        **first_error_scores([r["label"] for r in rows], step_scores, threshold),
        "aggregation": agg,
        "rows": len(rows),
    }


def evaluate_model(
    scorer, dev_rows: Sequence[dict], test_rows: Sequence[dict], agg: str = "min", step_prefixes: bool | None = None
) -> dict:
    """Threshold from ``dev_rows``, every metric on ``test_rows``.

    ``step_prefixes``: True scores every step as ``Step i: …`` (the layout the released Math-Shepherd PRM was
    trained on), False strips such prefixes, None scores the steps as the rows have them."""
    from verikit.format import with_step_prefixes, without_step_prefixes

    layout = {True: with_step_prefixes, False: without_step_prefixes, None: list}[step_prefixes]
    dev_scores = scorer.score([r["problem"] for r in dev_rows], [layout(r["steps"]) for r in dev_rows])
    threshold = choose_threshold([r["label"] for r in dev_rows], dev_scores)
    test_scores = scorer.score([r["problem"] for r in test_rows], [layout(r["steps"]) for r in test_rows])
    return evaluate_scores(test_rows, test_scores, threshold, agg)
