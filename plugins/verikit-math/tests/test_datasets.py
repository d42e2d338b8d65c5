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
    _write(
        tmp_path, "math", "test500.jsonl", [good, {**good, "answer": " ", "unique_id": "b"}, {**good, "unique_id": "c"}]
    )
    with pytest.warns(UserWarning, match=r"test500.jsonl:2: field 'answer': empty answer"):
        problems = verikit.load_dataset("math500", data_dir=tmp_path)
    assert [p.id for p in problems] == ["a", "c"]


def test_unknown_split_and_unknown_dataset_are_clear(tmp_path):
    with pytest.raises(DataError, match="no split 'dev'"):
        verikit.load_dataset("gsm8k", split="dev", data_dir=tmp_path)
    with pytest.raises(UnknownNameError, match="did you mean 'gsm8k'"):
        verikit.load_dataset("gsm8", split="test")


def test_the_full_math_test_set_is_math500_and_the_other_4500_test_problems(shared_data_dir):
    with pytest.warns(UserWarning):  # MATH train's two unanswerable rows are reported, not dropped silently
        train = verikit.load_dataset("math-train", split="train", data_dir=shared_data_dir)
    test = verikit.load_dataset("math-test", split="test", data_dir=shared_data_dir)
    math500 = verikit.load_dataset("math500", data_dir=shared_data_dir)
    assert len(test) == 5000 and len({p.id for p in test}) == 5000
    assert {p.id for p in math500} <= {p.id for p in test}
    assert all(p.id.startswith("train/") for p in train)
    # 7,500 train problems less the two without an answer and the one whose text is a test problem's
    assert len(train) == 7500 - 2 - 1


def _text(problem):
    return " ".join(problem.question.split())


def test_no_training_problem_is_a_test_problem(shared_data_dir):
    """What the paper annotates (GSM8K and MATH train) never holds a problem it is evaluated on (GSM8K test, the
    5,000 of MATH test), by id and by text."""
    with pytest.warns(UserWarning):
        train = verikit.load_dataset("math-train", split="train", data_dir=shared_data_dir)
    train += verikit.load_dataset("gsm8k", split="train", data_dir=shared_data_dir)
    test = verikit.load_dataset("math-test", data_dir=shared_data_dir)
    test += verikit.load_dataset("gsm8k", split="test", data_dir=shared_data_dir)
    assert not {p.id for p in train} & {p.id for p in test}
    assert not {_text(p) for p in train} & {_text(p) for p in test}


def test_a_training_row_with_a_test_problems_text_is_left_out_by_name(tmp_path):
    row = {"problem": "Find x.", "solution": "\\boxed{1}", "answer": "1"}
    _write(tmp_path, "math", "test500.jsonl", [{**row, "unique_id": "test/a/1.json"}])
    _write(
        tmp_path,
        "math",
        "train12k.jsonl",
        [
            {**row, "unique_id": "train/a/1.json"},
            {**row, "problem": "Find y.", "unique_id": "train/a/2.json"},
            {**row, "problem": "Find z.", "unique_id": "test/a/2.json"},
        ],
    )
    with pytest.warns(UserWarning, match="train/a/1.json is a MATH test problem's text"):
        train = verikit.load_dataset("math-train", split="train", data_dir=tmp_path)
    assert [p.id for p in train] == ["train/a/2.json"]
    assert [p.id for p in verikit.load_dataset("math-test", data_dir=tmp_path)] == ["test/a/1.json", "test/a/2.json"]


def test_metamathqa_rows_become_problems_with_their_gold_solution(tmp_path):
    rows = [
        {"query": "What is 2+3?", "response": "2+3=5.\nThe answer is: 5", "type": "GSM_AnsAug"},
        {"query": "Simplify $x/x$.", "response": "It is $1$. The answer is: 1", "type": "MATH_Rephrased"},
    ]
    (tmp_path / "metamathqa").mkdir()
    (tmp_path / "metamathqa" / "MetaMathQA-395K.json").write_text(json.dumps(rows))
    problems = verikit.load_dataset("metamathqa", split="train", data_dir=tmp_path)
    assert [(p.gold_answer, p.domain) for p in problems] == [("5", "gsm8k"), ("1", "math")]
    assert problems[0].gold_solution == rows[0]["response"]
    assert len(verikit.load_dataset("metamathqa", split="train", data_dir=tmp_path, limit=1)) == 1


@pytest.mark.parametrize(
    "row, message",
    [
        ({"query": "q", "type": "GSM_SV"}, r"MetaMathQA-395K.json:2: field 'response': missing"),
        (
            {"query": "q", "response": "no final line", "type": "GSM_SV"},
            r"MetaMathQA-395K.json:2: field 'response': the response",
        ),
    ],
)
def test_a_malformed_metamathqa_row_names_file_row_and_field(tmp_path, row, message):
    good = {"query": "q", "response": "The answer is: 1", "type": "GSM_SV"}
    (tmp_path / "metamathqa").mkdir()
    (tmp_path / "metamathqa" / "MetaMathQA-395K.json").write_text(json.dumps([good, row]))
    with pytest.raises(DataError, match=message):
        verikit.load_dataset("metamathqa", split="train", data_dir=tmp_path)


def test_metamathqa_without_a_local_copy_or_the_hub_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(DataError, match=r"metamathqa: no local copy and the hub failed .*MetaMathQA-395K.json"):
        verikit.load_dataset("metamathqa", split="train", data_dir=tmp_path)
