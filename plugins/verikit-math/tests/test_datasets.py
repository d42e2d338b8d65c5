import json

import pytest

import verikit
from verikit.errors import DataError, UnknownNameError


def test_gsm8k_loader_reads_the_real_file(shared_data_dir):
    problems = verikit.load_dataset("gsm8k", split="test", data_dir=shared_data_dir, limit=3)
    assert [p.gold_answer for p in problems] == ["18", "3", "70000"]
    assert problems[0].domain == "gsm8k" and problems[0].id == "gsm8k-test-1"


def test_math500_loader_reads_the_real_file(shared_data_dir):
    problems = verikit.load_dataset("math500", data_dir=shared_data_dir)
    assert len(problems) == 500
    assert problems[0].gold_answer == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert problems[0].metadata["subject"] == "Precalculus"


def test_the_data_folder_comes_from_verikit_data(shared_data_dir, monkeypatch):
    monkeypatch.setenv("VERIKIT_DATA", str(shared_data_dir))
    assert len(verikit.load_dataset("gsm8k", split="test", limit=2)) == 2
    monkeypatch.setenv("VERIKIT_DATA", "/nonexistent/verikit-data")
    with pytest.raises(DataError, match="VERIKIT_DATA"):
        verikit.load_dataset("gsm8k", split="test")


def _write(tmp_path, sub, name, rows):
    folder = tmp_path / sub
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return folder / name


@pytest.mark.parametrize(
    "bad_row, message",
    [
        ({"question": "q"}, r"test.jsonl:2: field 'answer': missing"),
        ({"question": "q", "answer": 5}, r"test.jsonl:2: field 'answer': expected string, got integer"),
        ({"question": "q", "answer": "no final line"}, r"test.jsonl:2: field 'answer': no final '#### <answer>' line"),
        ('{"question": "q", ', r"test.jsonl:2: invalid JSON"),
        ("[1, 2]", r"test.jsonl:2: expected a JSON object"),
        ({"question": "", "answer": "#### 4"}, r"question must not be empty"),
    ],
)
def test_a_malformed_gsm8k_row_names_file_line_and_field(tmp_path, bad_row, message):
    _write(tmp_path, "gsm8k", "test.jsonl", [{"question": "q", "answer": "#### 1"}, bad_row])
    with pytest.raises((DataError, ValueError), match=message):
        verikit.load_dataset("gsm8k", split="test", data_dir=tmp_path)


def test_a_math_row_without_an_answer_is_left_out_loudly(tmp_path):
    good = {"problem": "p", "solution": "\\boxed{1}", "answer": "1", "unique_id": "a"}
    _write(tmp_path, "math", "test500.jsonl", [good, {**good, "answer": " ", "unique_id": "b"}, {**good, "unique_id": "c"}])
    with pytest.warns(UserWarning, match=r"test500.jsonl:2: field 'answer': empty answer"):
        problems = verikit.load_dataset("math500", data_dir=tmp_path)
    assert [p.id for p in problems] == ["a", "c"]


def test_unknown_split_and_unknown_dataset_are_clear(tmp_path):
    with pytest.raises(DataError, match="no split 'dev'"):
        verikit.load_dataset("gsm8k", split="dev", data_dir=tmp_path)
    with pytest.raises(UnknownNameError, match="did you mean 'gsm8k'"):
        verikit.load_dataset("gsm8", split="test")
