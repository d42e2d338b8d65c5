import json

import pytest

from verikit.annotation.exports import export
from verikit.errors import DataError
from verikit.format import (
    from_math_shepherd,
    math_shepherd_line,
    to_math_shepherd,
    to_trl,
    with_step_prefixes,
    without_step_prefixes,
)


def test_released_math_shepherd_rows_round_trip_byte_for_byte(shared_data_dir, tmp_path):
    """Import → export gives the released file's bytes (its ASCII escapes of ки, key order, separators), and the
    ``task`` of each row survives without being told."""
    path = shared_data_dir / "math_shepherd_sample" / "samples_math-shepherd.jsonl"
    raw = path.read_bytes()
    assert b"\\u043a\\u0438" in raw  # the released file escapes non-ASCII
    records = []
    for line, text in enumerate(raw.decode("ascii").splitlines(), start=1):
        record = from_math_shepherd(json.loads(text), path=path, line=line)
        assert record["steps"][0].startswith("Step 1:") and record["task"] in ("GSM8K", "MATH")
        records.append(record)
    assert b"".join(math_shepherd_line(to_math_shepherd(r)).encode("ascii") for r in records) == raw
    out = tmp_path / "again.jsonl"
    export(records, "math-shepherd", out)
    assert out.read_bytes() == raw


def test_a_question_that_contains_step_1_is_split_where_the_steps_begin():
    record = {
        "question": "A list reads ' Step 1: wash'. How many steps does it have?",
        "steps": ["Step 1: It has one step.", "Step 2: The answer is 1"],
        "hard_labels": [True, True],
        "task": "GSM8K",
    }
    back = from_math_shepherd(to_math_shepherd(record))
    assert back["question"] == record["question"] and back["steps"] == record["steps"]


def test_step_prefixes_on_and_off():
    assert with_step_prefixes(["a", "Step 7: b"]) == ["Step 1: a", "Step 2: b"]
    assert without_step_prefixes(["Step 1: a", "b", "Step 12:c"]) == ["a", "b", "c"]


def test_verikit_to_math_shepherd_to_verikit_and_to_trl_keep_labels():
    record = {
        "question": "7+3*4-2=?",
        "steps": ["Step 1: 3*4=12, so 7+12-2", "Step 2: 7+12=20, so 20-2", "The answer is 18"],
        "hard_labels": [True, False, False],
        "soft_labels": [0.75, 0.0, 0.0],
        "domain": "arith",
        "key": "k",
    }
    row = to_math_shepherd(record)
    assert row["input"] == "7+3*4-2=? Step 1: 3*4=12, so 7+12-2 ки\nStep 2: 7+12=20, so 20-2 ки\nThe answer is 18 ки"
    assert row["label"] == "7+3*4-2=? Step 1: 3*4=12, so 7+12-2 +\nStep 2: 7+12=20, so 20-2 -\nThe answer is 18 -"
    back = from_math_shepherd(row)
    assert back["steps"] == record["steps"] and back["hard_labels"] == record["hard_labels"]
    assert to_trl(record) == {"prompt": "7+3*4-2=?", "completions": record["steps"], "labels": [True, False, False]}
    assert to_trl(record, labels="soft_labels")["labels"] == [0.75, 0.0, 0.0]  # soft values unrounded


def test_bad_math_shepherd_rows_name_the_line_and_field():
    with pytest.raises(DataError, match="f.jsonl:3: field 'label'"):
        from_math_shepherd({"input": "q Step 1: a ки", "label": "q Step 1: a ?"}, path="f.jsonl", line=3)
    with pytest.raises(DataError, match="field 'input'"):
        from_math_shepherd({"input": "no steps", "label": "no steps"}, path="f.jsonl", line=1)


def test_export_skips_unlabelled_records_and_writes_each_format(tmp_path):
    good = {
        "question": "q",
        "steps": ["a"],
        "hard_labels": [True],
        "soft_labels": [1.0],
        "domain": "arith",
        "error": None,
    }
    bad = {
        "question": "q",
        "steps": [],
        "hard_labels": [],
        "soft_labels": [],
        "domain": "arith",
        "error": "solution has no steps",
    }
    assert export([good, bad], "math-shepherd", tmp_path / "ms.jsonl") == 1
    assert export([good, bad], "trl", tmp_path / "trl.jsonl") == 1
    assert export([good, bad], "parquet", tmp_path / "x.parquet") == 1
    with pytest.raises(DataError, match="unknown export format"):
        export([good], "csv", tmp_path / "x.csv")


def test_trl_export_of_soft_labels_warns_that_trl_truncates_them(tmp_path, recwarn):
    record = {
        "question": "q",
        "steps": ["a", "b"],
        "hard_labels": [True, False],
        "soft_labels": [0.625, 0.0],
        "domain": "arith",
        "error": None,
    }
    with pytest.warns(UserWarning, match="1 soft labels strictly between 0 and 1 .* truncates"):
        export([record], "trl", tmp_path / "soft.jsonl", labels="soft")
    export([record], "trl", tmp_path / "hard.jsonl", labels="hard")  # hard labels: nothing to say
    export([{**record, "soft_labels": [1.0, 0.0]}], "trl", tmp_path / "whole.jsonl", labels="soft")
    assert not [w for w in recwarn if "truncates" in str(w.message)]
