"""Selectors on hand-made cases: ties, samples without answers, one sample; best-of-N curves."""

import pytest

from verikit.bon import ProblemSamples, bon_curves
from verikit.default_plugins.selectors import best_of_n, sc_plus_rm, self_consistency


def test_self_consistency_ties_go_to_the_first_seen_answer_and_none_is_ignored():
    assert self_consistency(["4", "3", "3", "4"]) == 0
    assert self_consistency([None, "3", None]) == 1
    assert self_consistency([None, None]) is None
    assert self_consistency(["7"]) == 0


def test_best_of_n_takes_the_highest_score_first_on_ties_and_may_pick_an_unanswered_sample():
    assert best_of_n(["1", "2", "3"], [0.2, 0.9, 0.9]) == 1
    assert best_of_n(["1", None], [0.1, 0.8]) == 1
    assert best_of_n(["1"], [0.0]) == 0
    assert best_of_n([], []) is None
    with pytest.raises(ValueError):
        best_of_n(["1"], None)


def test_sc_plus_rm_sums_scores_per_answer():
    # "3" twice with 0.3 + 0.3 = 0.6 beats "4" once with 0.5; majority alone would also say "3"
    assert sc_plus_rm(["3", "4", "3"], [0.3, 0.5, 0.3]) == 0
    # one confident "4" (0.9) beats two doubtful "3" (0.2 + 0.2): unlike plain majority voting
    assert sc_plus_rm(["3", "4", "3"], [0.2, 0.9, 0.2]) == 1
    assert sc_plus_rm([None, None], [0.5, 0.5]) is None


def test_curves_are_paired_bounded_and_exact_at_full_n():
    problems = [
        ProblemSamples(["1", "2", "2", "1"], [True, False, False, True], {"rm": [0.9, 0.1, 0.2, 0.8]}),
        ProblemSamples(["5", None, "6", "6"], [True, False, False, False], {"rm": [0.7, 0.9, 0.1, 0.2]}),
    ]
    methods = {"sc": ("self-consistency", None), "rm": ("best-of-n", "rm"), "sc+rm": ("sc+rm", "rm")}
    curves = bon_curves(problems, methods, ns=[1, 2, 4], repeats=20, seed=0)
    for points in curves.values():
        for point in points.values():
            assert 0.0 <= point["ci_low"] <= point["acc"] <= point["ci_high"] <= 1.0
    # N = 4 uses every sample once: SC picks "1" (tie, first) and "6"; RM picks sample 0 and the unanswered one
    assert curves["sc"][4]["acc"] == 0.5
    assert curves["rm"][4]["acc"] == 0.5
    assert curves["sc+rm"][4]["acc"] == 1.0  # "1": 1.7 vs "2": 0.3; "5": 0.7 vs "6": 0.3
    assert bon_curves(problems, methods, ns=[2], repeats=5, seed=3) == bon_curves(
        problems, methods, ns=[2], repeats=5, seed=3
    )
    wide = bon_curves(problems, methods, ns=[4], repeats=200, seed=1)["sc"][4]  # two problems, one right: the
    assert wide["ci_low"] == 0.0 and wide["ci_high"] == 1.0  # bootstrap over problems spans 0..1 at N = all


def test_selectors_are_registered_and_looked_up_by_name():
    import verikit

    assert verikit.selector("self-consistency")(["1", "2", "2"]) == 1
    assert verikit.selector("sc+rm")(["1", "2", "2"], [0.9, 0.2, 0.3]) == 0


def test_readable_best_of_n_never_picks_an_unanswered_sample_while_one_has_an_answer():
    from verikit.default_plugins.selectors import readable_best_of_n

    assert readable_best_of_n([None, "3", "4"], [0.99, 0.5, 0.5]) == 1  # tie among readable: the first
    assert readable_best_of_n([None, None], [0.1, 0.2]) is None
    assert readable_best_of_n(["7"], [0.0]) == 0
    assert readable_best_of_n([], []) is None
