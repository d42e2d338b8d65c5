"""First-error (ProcessBench) evaluation, AUCs and the loader's errors."""

import json

import pytest

from verikit.errors import DataError
from verikit.metrics import choose_threshold, first_error_scores, pairwise_auc, predicted_first_error
from verikit.rm.evaluation import evaluate_scores
from verikit.rm.processbench import load_processbench

ROWS = [
    {"id": "a", "problem": "p1", "steps": ["s1", "s2", "s3"], "label": 1, "final_answer_correct": False},
    {"id": "b", "problem": "p1", "steps": ["s1", "s2"], "label": -1, "final_answer_correct": True},
    {"id": "c", "problem": "p2", "steps": ["s1", "s2"], "label": 0, "final_answer_correct": False},
    {"id": "d", "problem": "p2", "steps": ["s1"], "label": -1, "final_answer_correct": True},
]
SCORES = [[0.9, 0.2, 0.1], [0.8, 0.7], [0.3, 0.2], [0.95]]
LABELS = [row["label"] for row in ROWS]


def test_predicted_first_error_and_f1_by_hand():
    assert predicted_first_error([0.9, 0.2, 0.1], 0.5) == 1
    assert predicted_first_error([0.9, 0.8], 0.5) == -1
    result = first_error_scores(LABELS, SCORES, 0.5)
    assert result["acc_erroneous"] == 1.0 and result["acc_correct"] == 1.0 and result["first_error_f1"] == 1.0
    result = first_error_scores(LABELS, SCORES, 0.75)  # "b" now flagged at step 1: correct rows 1/2
    assert result["acc_correct"] == 0.5 and result["first_error_f1"] == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_threshold_is_chosen_to_maximise_dev_f1():
    threshold = choose_threshold(LABELS, SCORES)
    assert first_error_scores(LABELS, SCORES, threshold)["first_error_f1"] == 1.0
    assert 0.3 < threshold <= 0.7


def test_pairwise_auc_compares_only_within_a_problem():
    groups = {"p1": [0, 1], "p2": [2, 3]}
    correct = {0: False, 1: True, 2: False, 3: True}
    assert pairwise_auc(groups, {0: 0.1, 1: 0.2, 2: 0.9, 3: 0.95}, correct) == 1.0
    assert pairwise_auc(groups, {0: 0.3, 1: 0.2, 2: 0.9, 3: 0.9}, correct) == 0.25  # one loss, one tie
    assert pairwise_auc({"p": [0]}, {0: 0.5}, {0: True}) is None


def test_evaluate_scores_reports_every_metric():
    result = evaluate_scores(ROWS, SCORES, threshold=0.5)
    assert result["step_auc"] == 1.0  # gold: a=[+,-], b=[+,+], c=[-], d=[+] (steps after the first error not counted)
    assert result["solution_auc"] == 1.0 and result["pairwise_auc"] == 1.0
    assert set(result) >= {"step_auc", "solution_auc", "pairwise_auc", "first_error_f1", "acc_erroneous", "acc_correct"}


def test_step_labels_when_present_count_every_step():
    rows = [dict(ROWS[0], step_labels=[True, False, False]), ROWS[1]]
    result = evaluate_scores(rows, [[0.9, 0.2, 0.75], [0.8, 0.7]], threshold=0.5)
    # positives 0.9, 0.8, 0.7; negatives 0.2 and 0.75 (a step after the first error): 0.7 < 0.75 is the one loss
    assert result["step_auc"] == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    "row, field",
    [
        ({"id": "x", "problem": "p", "steps": ["s"]}, "label"),
        ({"id": "x", "problem": "p", "steps": [], "label": -1}, "steps"),
        ({"id": "x", "problem": "p", "steps": ["s"], "label": 3}, "label"),
        ({"id": "x", "steps": ["s"], "label": -1}, "problem"),
        ({"id": "x", "problem": "p", "steps": ["s", "t"], "label": -1, "step_labels": [True]}, "step_labels"),
    ],
)
def test_bad_processbench_rows_name_file_row_and_field(tmp_path, row, field):
    path = tmp_path / "bench.json"
    path.write_text(json.dumps([ROWS[1], row]))
    with pytest.raises(DataError) as error:
        load_processbench(path)
    assert error.value.line == 2 and error.value.field == field and str(path) in str(error.value)


def test_the_real_processbench_dev_sample_loads_and_evaluates(shared_data_dir, mistral_prm):
    import verikit
    from verikit.rm.evaluation import evaluate_model

    files = sorted((shared_data_dir / "processbench_dev").glob("*.jsonl"))
    assert files, "processbench_dev sample missing"
    rows = [row for path in files for row in load_processbench(path)]
    assert len(rows) == 80 and all(isinstance(r["steps"], list) and r["steps"] for r in rows)
    gsm8k = [r for r in rows if r["id"].startswith("gsm8k")]
    result = evaluate_model(verikit.scorer(mistral_prm, released_convention=True), gsm8k[:10], gsm8k[10:], agg="min")
    assert result["n_erroneous"] + result["n_correct"] == 10 and result["rows"] == 10
    assert result["step_auc"] is None or 0.0 <= result["step_auc"] <= 1.0


def test_a_class_without_rows_has_no_accuracy_and_no_f1():
    only_erroneous = [LABELS[0], LABELS[2]]
    result = first_error_scores(only_erroneous, [SCORES[0], SCORES[2]], 0.5)
    assert result["acc_correct"] is None and result["first_error_f1"] is None and result["acc_erroneous"] == 1.0
    assert 0.3 < choose_threshold(only_erroneous, [SCORES[0], SCORES[2]]) <= 0.9


def test_processbench_is_scored_with_or_without_step_prefixes():
    from verikit.rm.evaluation import evaluate_model

    seen = []

    class Recording:
        def score(self, questions, steps):
            seen.extend(steps)
            return [[0.9] * (len(s) - 1) + [0.1] for s in steps]

    rows = [
        {"problem": "q", "steps": ["a", "b"], "label": 1, "final_answer_correct": False},
        {"problem": "q", "steps": ["Step 1: a", "Step 2: c"], "label": -1, "final_answer_correct": True},
    ]
    evaluate_model(Recording(), rows, rows, step_prefixes=True)
    assert seen[0] == ["Step 1: a", "Step 2: b"] and seen[1] == ["Step 1: a", "Step 2: c"]
    seen.clear()
    evaluate_model(Recording(), rows, rows, step_prefixes=False)
    assert seen[1] == ["a", "c"]
    seen.clear()
    evaluate_model(Recording(), rows, rows)
    assert seen[0] == ["a", "b"] and seen[1] == ["Step 1: a", "Step 2: c"]


def test_processbench_rows_load_from_parquet_as_the_hub_stores_them(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    path = tmp_path / "gsm8k.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), path)
    assert [(r["id"], r["label"], r["steps"]) for r in load_processbench(path)] == [
        (r["id"], r["label"], r["steps"]) for r in ROWS
    ]
    pq.write_table(pa.Table.from_pylist([ROWS[0], {**ROWS[1], "label": 7}]), path)
    with pytest.raises(DataError) as error:
        load_processbench(path)
    assert error.value.line == 2 and error.value.field == "label"


def test_trl_stepwise_rows_read_as_processbench_rows(tmp_path):
    """verikit's TRL export (or TRL's hub datasets) evaluates directly: first label below 0.5 is the first error."""
    from verikit.annotation.exports import export

    records = [
        {"question": "p1", "steps": ["s1", "s2", "s3"], "hard_labels": [True, False, False], "soft_labels": [1, 0, 0]},
        {"question": "p1", "steps": ["s1", "s2"], "hard_labels": [True, True], "soft_labels": [1, 1]},
    ]
    for record in records:
        record.update(domain="arith", error=None)
    export(records, "trl", tmp_path / "trl.jsonl")
    rows = load_processbench(tmp_path / "trl.jsonl")
    assert [(r["problem"], r["label"], r["final_answer_correct"], r["step_labels"]) for r in rows] == [
        ("p1", 1, False, [True, False, False]),
        ("p1", -1, True, [True, True]),
    ]
    import pyarrow as pa
    import pyarrow.parquet as pq

    trl_rows = [json.loads(line) for line in (tmp_path / "trl.jsonl").read_text().splitlines()]
    pq.write_table(pa.Table.from_pylist(trl_rows), tmp_path / "trl.parquet")
    assert [r["label"] for r in load_processbench(tmp_path / "trl.parquet")] == [1, -1]
    (tmp_path / "bad.jsonl").write_text(json.dumps({"prompt": "p", "completions": ["a"], "labels": [0.2, 1]}) + "\n")
    with pytest.raises(DataError) as error:
        load_processbench(tmp_path / "bad.jsonl")
    assert error.value.line == 1 and error.value.field == "labels"
