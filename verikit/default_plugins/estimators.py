"""Math-Shepherd's two estimators of step quality from rollout verdicts (paper §3.3)."""

from __future__ import annotations

from collections.abc import Sequence

from verikit.hookspecs import hookimpl
from verikit.interfaces import Estimator
from verikit.types import StepLabel


def _counts(verdicts: Sequence[bool]) -> tuple[int, int]:
    n = len(verdicts)
    if n == 0:
        raise ValueError("a step label needs at least one rollout verdict")
    return n, sum(bool(v) for v in verdicts)


class HardEstimator(Estimator):
    """Hard Estimation: a step is good (``+``) iff at least one rollout reaches the gold answer."""

    name = "hard"

    def label(self, verdicts: Sequence[bool]) -> StepLabel:
        n, correct = _counts(verdicts)
        return StepLabel(hard=correct > 0, soft=correct / n, n_rollouts=n, n_correct=correct)


class SoftEstimator(Estimator):
    """Soft Estimation: the step's value is the fraction of rollouts that reach the gold answer.

    ``threshold`` only decides the boolean ``hard`` field (the soft value is always kept unrounded).
    """

    name = "soft"

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold

    def label(self, verdicts: Sequence[bool]) -> StepLabel:
        n, correct = _counts(verdicts)
        soft = correct / n
        return StepLabel(hard=soft >= self.threshold, soft=soft, n_rollouts=n, n_correct=correct)


@hookimpl
def register_estimators(register):
    register("hard", HardEstimator, description="any rollout correct → +")
    register("soft", SoftEstimator, description="fraction of correct rollouts")
