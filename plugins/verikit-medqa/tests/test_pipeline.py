"""The plugin runs through the core's own commands, unchanged: annotate → train-prm → score on medqa rows."""

import json

import pytest
from typer.testing import CliRunner

import verikit
from verikit.cli import app
from verikit.records import is_labelled
from verikit.tiny_models import build_tiny_causal_lm

runner = CliRunner()


def _ok(args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_annotate_train_and_score_medical_questions_with_the_core_commands(tmp_path):
    problems = verikit.load_dataset("medqa-sample", split="dev")
    texts = [p.question + " The answer is (" + p.metadata["answer_letter"] + ")." for p in problems] * 4
    model = build_tiny_causal_lm(tmp_path / "tiny", texts, vocab_size=400)

    _ok(
        [
            "annotate",
            "--dataset",
            "medqa-sample",
            "--split",
            "dev",
            "--generator",
            model,
            "--samples",
            2,
            "--n",
            2,
            "--max-new-tokens",
            40,
            "--out",
            tmp_path / "ann",
        ]
    )
    records = list(verikit.load_annotations(tmp_path / "ann"))
    assert len(records) == 12 and {r["domain"] for r in records} == {"medqa"}
    labelled = [r for r in records if is_labelled(r)]
    assert labelled, "no sample had steps to label"
    splitter = verikit.step_splitter("clinical-sentences")
    for record in labelled:  # steps are the medqa splitter's, with one label per step
        assert splitter.split(splitter.join(record["steps"])) == record["steps"]
        assert len(record["hard_labels"]) == len(record["steps"])

    _ok(
        [
            "train-prm",
            "--data",
            tmp_path / "ann",
            "--base",
            model,
            "--domain",
            "medqa",
            "--epochs",
            1,
            "--batch-size",
            4,
            "--out",
            tmp_path / "prm",
        ]
    )
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "".join(
            json.dumps(
                {
                    "question": p.question,
                    "steps": splitter.split(
                        "Metformin is first line. It lowers hepatic glucose output.\nThe answer is (B)."
                    ),
                }
            )
            + "\n"
            for p in problems[:2]
        )
    )
    _ok(["score", "--model", tmp_path / "prm", "--input", rows, "--out", tmp_path / "scored.jsonl"])
    scored = [json.loads(line) for line in (tmp_path / "scored.jsonl").read_text().splitlines()]
    assert [len(r["step_scores"]) for r in scored] == [3, 3]
    assert all(0.0 <= s <= 1.0 for r in scored for s in r["step_scores"])
