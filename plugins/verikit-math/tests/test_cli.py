import json

from typer.testing import CliRunner

from verikit.cli import app

runner = CliRunner()


def test_plugins_json_lists_the_math_checkers_and_splitters_with_their_plugin():
    result = runner.invoke(app, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    checkers = {c["name"]: c["plugin"] for c in data["components"]["answer_checkers"]}
    splitters = {c["name"]: c["plugin"] for c in data["components"]["step_splitters"]}
    assert checkers["gsm8k"] == checkers["math"] == "math"
    assert splitters["gsm8k"] == splitters["math"] == "math"
    assert splitters["shepherd"] == "verikit.default_plugins.splitters"
    assert data["failures"] == []


def test_check_grades_a_jsonl_file(tmp_path):
    path = tmp_path / "sols.jsonl"
    rows = [{"solution": "so #### 18", "gold": "18"}, {"solution": "The answer is 7", "gold": "8"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "verdicts.json"
    result = runner.invoke(app, ["check", str(path), "--checker", "gsm8k", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1/2 correct" in result.output
    assert [r["correct"] for r in json.loads(out.read_text())["rows"]] == [True, False]


def test_check_reports_a_bad_row_with_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"solution": "x", "gold": "1"}\n{"solution": "x"}\n')
    result = runner.invoke(app, ["check", str(path), "--checker", "gsm8k"])
    assert result.exit_code != 0
    assert "bad.jsonl:2: field 'gold': missing" in str(result.exception)


def test_checker_report_writes_json(tmp_path, shared_data_dir):
    out = tmp_path / "report.json"
    result = runner.invoke(
        app,
        [
            "checker-report",
            "--dataset",
            "gsm8k-test",
            "--limit",
            "20",
            "--data-dir",
            str(shared_data_dir),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["n"] == 20 and report["agree"] == 20
