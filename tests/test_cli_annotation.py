"""The annotation commands are thin: they parse, call the library, and report."""

import json

from typer.testing import CliRunner

from verikit.annotation.storage import AnnotationStore, record_key
from verikit.cli import app

runner = CliRunner()


def _record(i, verdicts, labels, final_correct, steps):
    return {
        "key": record_key("p", i, "s"),
        "chunk": 0,
        "problem_id": f"p{i}",
        "domain": "toy",
        "question": "q",
        "gold_answer": "1",
        "sample_index": i,
        "solution": "s",
        "steps": steps,
        "final_answer": "1",
        "final_correct": final_correct,
        "hard_labels": labels,
        "soft_labels": [float(x) for x in labels],
        "step_rollouts": [len(v) for v in verdicts],
        "step_correct": [v.count("1") for v in verdicts],
        "verdicts": verdicts,
        "rollouts_used": 0,
        "rollouts_generated": 0,
        "rollout_tokens": 0,
        "error": None,
        "strategy": "naive",
        "n_rollouts": 4,
        "generator": "g",
        "completer": "g",
        "seed": 0,
        "config_hash": "h",
    }


def test_export_writes_math_shepherd_rows(tmp_path):
    store = AnnotationStore(tmp_path / "ann", {"x": 1})
    store.append(0, [_record(0, ["1111", ""], [True, True], True, ["Step 1: a", "The answer is 1"])])
    out = tmp_path / "ms.jsonl"
    result = runner.invoke(
        app, ["export", "--annotations", str(tmp_path / "ann"), "--format", "math-shepherd", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    row = json.loads(out.read_text())
    assert row["input"] == "q Step 1: a ки\nThe answer is 1 ки" and row["label"] == "q Step 1: a +\nThe answer is 1 +"
