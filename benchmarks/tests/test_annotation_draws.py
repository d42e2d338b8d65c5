"""The statistics of ``benchmarks.annotation_draws`` (its runs are checked in test_every_benchmark_runs.py)."""

from __future__ import annotations

import pytest

from benchmarks.annotation_draws import compare, holm, parse_seeds, permutation_p


def test_seeds_are_ranges_and_lists():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5, 0-1,1") == [0, 1, 5]
    with pytest.raises(SystemExit, match="'a-2'"):
        parse_seeds("a-2")


def test_the_permutation_test_is_exact_on_small_samples():
    # [1, 2, 3] against [4, 5, 6]: of the 20 splits, only these two are as far apart (either way)
    assert permutation_p([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == pytest.approx(2 / 20)
    assert permutation_p([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == pytest.approx(1.0)
    assert permutation_p([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert permutation_p([1.0], [2.0, 3.0]) is None


def test_the_permutation_test_samples_splits_beyond_its_budget():
    # C(40, 20) splits: 100,000 random ones; two clearly separated sides
    low, high = [float(i % 3) for i in range(20)], [float(10 + i % 3) for i in range(20)]
    assert permutation_p(low, high) < 1e-3


def test_holm_multiplies_the_smallest_by_the_family_and_keeps_the_order():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03})
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06})
    assert holm({"a": 0.5, "b": 0.9}) == pytest.approx({"a": 1.0, "b": 1.0})


def test_compare_lines_up_each_rows_seeds_and_tests_the_difference():
    def draw(orm, prm):
        return {"best_of_n": {"test": {"orm": orm, "prm": prm}}, "annotation": {}}

    sides = {
        "current": {0: draw(10.0, 20.0), 1: draw(12.0, 20.0), 2: draw(11.0, 20.0)},
        "baseline": {0: draw(14.0, 20.0), 1: draw(15.0, 20.0), 2: draw(16.0, 20.0)},
    }
    rows = compare(sides)["test"]
    assert rows["orm"]["current"] == {"values": {0: 10.0, 1: 12.0, 2: 11.0}, "mean": 11.0, "sd": 1.0}
    assert rows["orm"]["difference"] == -4.0 and rows["orm"]["p"] == pytest.approx(0.1)
    assert rows["orm"]["p_holm"] == pytest.approx(0.1)  # the only row that differs is the only one tested
    assert rows["prm"]["difference"] == 0 and rows["prm"]["p"] == 1.0 and "p_holm" not in rows["prm"]
