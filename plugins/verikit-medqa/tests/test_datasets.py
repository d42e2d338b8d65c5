"""The MedQA-schema loader reads the bundled sample and names file, line and field for every bad row."""

import json

import pytest

import verikit
from verikit import DataError
from verikit_medqa.datasets import load_multiple_choice


def test_the_bundled_sample_is_split_into_dev_and_test():
    dev, test = verikit.load_dataset("medqa-sample", split="dev"), verikit.load_dataset("medqa-sample", split="test")
    assert (len(dev), len(test)) == (6, 14)
    assert not {p.id for p in dev} & {p.id for p in test}
    problem = dev[0]
    assert problem.domain == "medqa" and problem.gold_answer == "B: Metformin"
    assert "(B) Metformin" in problem.question and problem.metadata["answer_letter"] == "B"
    assert verikit.answer_checker("medqa").is_correct("The answer is (B).", problem.gold_answer)


def test_medqa_files_with_answer_idx_are_read(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text(
        json.dumps({"question": "Q?", "options": {"A": "x", "B": "y"}, "answer": "y", "answer_idx": "B"}) + "\n"
    )
    [problem] = load_multiple_choice(path, "t")
    assert problem.gold_answer == "B: y"


def test_real_medqa_is_read_from_verikit_data_and_its_absence_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIKIT_DATA", str(tmp_path))
    with pytest.raises(DataError, match=r"medqa/test\.jsonl.*file not found"):
        verikit.load_dataset("medqa", split="test")
    (tmp_path / "medqa").mkdir()
    (tmp_path / "medqa" / "test.jsonl").write_text(
        json.dumps({"question": "Q?", "options": {"A": "x", "B": "y"}, "answer": "A"}) + "\n"
    )
    assert verikit.load_dataset("medqa", split="test")[0].gold_answer == "A: x"


GOOD = {"question": "Q?", "options": {"A": "x", "B": "y"}, "answer": "A"}


@pytest.mark.parametrize(
    "row, field, message",
    [
        ("not json", None, "invalid JSON"),
        ([1, 2], None, "expected a JSON object"),
        ({**GOOD, "question": None}, "question", "expected string"),
        ({k: v for k, v in GOOD.items() if k != "options"}, "options", "missing"),
        ({**GOOD, "question": "  "}, "question", "empty question"),
        ({**GOOD, "options": ["x", "y"]}, "options", "expected object"),
        ({**GOOD, "options": {"A": "x"}}, "options", "at least two"),
        ({**GOOD, "options": {"A": "x", "Z": "y"}}, "options", "not one of"),
        ({**GOOD, "options": {"A": "x", "B": ""}}, "options", "non-empty"),
        ({**GOOD, "answer": "C"}, "answer", "not one of the option letters"),
        ({**GOOD, "answer": 1}, "answer", "expected string"),
        ({**GOOD, "answer": "y", "answer_idx": "Q"}, "answer_idx", "not one of the options"),
        ({**GOOD, "answer": "x", "answer_idx": "B"}, "answer", "not the text of option B"),
    ],
)
def test_every_kind_of_malformed_row_names_file_line_and_field(tmp_path, row, field, message):
    path = tmp_path / "bad.jsonl"
    bad = row if isinstance(row, str) else json.dumps(row)
    path.write_text(json.dumps(GOOD) + "\n\n" + bad + "\n")
    with pytest.raises(DataError, match=message) as error:
        load_multiple_choice(path, "t")
    assert (error.value.path, error.value.line, error.value.field) == (path, 3, field)
    assert "bad.jsonl:3" in str(error.value)
