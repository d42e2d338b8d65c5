"""The checkers agree with the datasets' own gold answers (the acceptance figures of the foundation)."""

from verikit.checking import gold_vs_gold


def test_gsm8k_test_gold_vs_gold_is_perfect(shared_data_dir):
    report = gold_vs_gold("gsm8k-test", data_dir=shared_data_dir)
    assert report["n"] == 1319
    assert report["agree"] == 1319, report["misses"][:5]


def test_math500_gold_vs_gold_is_at_least_99_4_percent(shared_data_dir):
    report = gold_vs_gold("math500", data_dir=shared_data_dir)
    assert report["n"] == 500
    assert report["accuracy"] >= 0.994, report["misses"]
