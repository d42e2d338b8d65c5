"""The reward-model commands end to end on a toy_lm model: annotate → train-prm/train-orm → score → prm-eval."""

import json

from toy_domain import labelled_examples as _examples
from typer.testing import CliRunner

from verikit.annotation.storage import AnnotationStore
from verikit.cli import app

runner = CliRunner()


def _annotation_folder(path, annotation_record, count=24):
    """Records shaped like the annotator's, with exact labels (a random toy_lm model would label nothing well)."""
    store = AnnotationStore(path, {"dataset": "sums"})
    records = []
    for i, example in enumerate(_examples(count).examples):
        labels = [bool(t) for t in example.targets]
        records.append(
            annotation_record(
                problem_id=f"p{i}",
                domain="sums",
                question=example.question,
                steps=example.steps,
                hard_labels=labels,
                soft_labels=[0.75 if x else 0.125 for x in labels],
            )
        )
    store.append(0, records)


def _ok(args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_train_score_and_evaluate_from_the_command_line(toy, toy_lm, tmp_path, annotation_record):
    ann = tmp_path / "ann"
    _annotation_folder(ann, annotation_record)
    for name in ("dev", "test"):
        output = _ok(
            [
                "make-processbench",
                "--dataset",
                "sums",
                "--generator",
                toy_lm,
                "--split",
                name,
                "--problems",
                4,
                "--samples",
                2,
                "--max-new-tokens",
                24,
                "--out",
                tmp_path / f"{name}.jsonl",
            ]
        )
        assert "samples without steps and" in output
    common = ["--data", ann, "--base", toy_lm, "--epochs", 1, "--batch-size", 4]
    _ok(["train-prm", *common, "--labels", "soft", "--out", tmp_path / "prm-soft"])
    _ok(["train-orm", *common, "--out", tmp_path / "orm"])
    output = _ok(
        [
            "train-prm",
            "--data",
            ann,
            "--base",
            toy_lm,
            "--kind",
            "likelihood",
            "--set",
            "regularization=0.5",
            "--out",
            tmp_path / "lprm",
        ]
    )
    assert "likelihood reward model" in output and "--head is deprecated" not in output
    assert json.loads((tmp_path / "lprm" / "verikit_rm.json").read_text())["kind"] == "likelihood"

    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": "2+3=?", "steps": ["Step 1: 2+3=5", "The answer is 5"]}) + "\n")
    _ok(
        [
            "score",
            "--model",
            tmp_path / "prm-soft",
            "--input",
            rows,
            "--out",
            tmp_path / "scored.jsonl",
            "--agg",
            "prod",
        ]
    )
    scored = json.loads((tmp_path / "scored.jsonl").read_text())
    assert (
        len(scored["step_scores"]) == 2
        and abs(scored["score"] - scored["step_scores"][0] * scored["step_scores"][1]) < 1e-9
    )

    if any(json.loads(line)["steps"] for line in (tmp_path / "test.jsonl").read_text().splitlines()):
        _ok(
            [
                "prm-eval",
                "--model",
                f"soft={tmp_path / 'prm-soft'}",
                "--model",
                f"orm={tmp_path / 'orm'}",
                "--model",
                f"lik={tmp_path / 'lprm'}",
                "--dev",
                tmp_path / "dev.jsonl",
                "--test",
                tmp_path / "test.jsonl",
                "--out",
                tmp_path / "eval.json",
            ]
        )
        result = json.loads((tmp_path / "eval.json").read_text())
        assert set(result) == {"soft", "orm", "lik"}
        for metrics in result.values():
            assert {
                "step_auc",
                "solution_auc",
                "first_error_f1",
                "acc_erroneous",
                "acc_correct",
                "pairwise_auc",
            } <= set(metrics)


def test_score_rejects_rows_without_steps(toy, toy_lm, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": "2+3=?", "steps": []}) + "\n")
    result = runner.invoke(app, ["score", "--model", str(toy_lm), "--input", str(rows)])
    assert result.exit_code != 0
    assert "rows.jsonl:1" in str(result.exception) or "rows.jsonl:1" in result.output
