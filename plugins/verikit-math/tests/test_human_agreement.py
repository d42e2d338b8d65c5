"""`verikit checker-report --dataset processbench`: agreement with ProcessBench's human final-answer verdicts on the
dev sample (erroneous and correct solutions), at least math-verify's, and the same verdicts on a loaded machine."""

from verikit.checking import human_agreement

GOLD = ["gsm8k-test", "gsm8k-train", "math500", "math-test", "math-train"]


def _sources(root):
    return [root / "processbench_dev", root / "processbench_dev_correct"]


def test_gsm8k_and_math_agree_with_humans_at_least_as_often_as_math_verify(shared_data_dir):
    report = human_agreement(_sources(shared_data_dir), GOLD)
    for subset in ("gsm8k", "math"):
        tally = report["subsets"][subset]
        assert tally["own"]["n"] == 40  # 20 erroneous + 20 correct solutions joined to their gold answers
        assert tally["own"]["agree"] >= tally["math-verify"]["agree"]
        assert tally[subset]["agree"] == tally["own"]["agree"]  # the subset's own checker
    assert report["not_joined"] == {"olympiadbench": 40, "omnimath": 40}  # no gold answers in the data folder
    assert report["wall_clock_cuts"] == 0


def test_two_runs_give_the_same_verdicts_with_the_machine_busy(shared_data_dir, busy_machine):
    quiet = human_agreement(_sources(shared_data_dir), GOLD)["verdicts"]
    with busy_machine():
        busy = human_agreement(_sources(shared_data_dir), GOLD)
    assert busy["verdicts"] == quiet and busy["wall_clock_cuts"] == 0


def test_the_command_prints_every_checker_side_by_side(shared_data_dir, run_cli, tmp_path):
    code, output = run_cli(["checker-report", "--dataset", "processbench", "--out", tmp_path / "r.json"])
    assert code == 0, output
    assert "math-verify" in output and "gsm8k" in output and "math" in output and (tmp_path / "r.json").exists()
