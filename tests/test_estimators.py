import pytest
from pydantic import ValidationError

import verikit
from verikit import StepLabel


def test_hard_estimation_is_any_rollout_correct():
    hard = verikit.estimator("hard")
    assert hard.label([False, False, True, False]) == StepLabel(hard=True, soft=0.25, n_rollouts=4, n_correct=1)
    assert hard.label([False] * 8).hard is False


def test_soft_estimation_is_the_unrounded_fraction():
    soft = verikit.estimator("soft")
    label = soft.label([True, False, False])
    assert label.soft == pytest.approx(1 / 3) and label.n_correct == 1 and label.hard is False
    assert verikit.estimator("soft", threshold=0.3).label([True, False, False]).hard is True


def test_a_label_needs_verdicts_and_consistent_counts():
    with pytest.raises(ValueError, match="at least one"):
        verikit.estimator("hard").label([])
    with pytest.raises(ValidationError, match="exceeds"):
        StepLabel(hard=True, soft=1.0, n_rollouts=1, n_correct=2)
