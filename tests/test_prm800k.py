"""The PRM800K importer on rows in the real schema (openai/prm800k phase 2), one per finish_reason."""

import json

import pytest

from verikit.errors import DataError
from verikit.prm800k import import_prm800k


def _completion(text, rating, flagged=False):
    return {"text": text, "rating": rating, "flagged": flagged}


def _row(steps, finish_reason, **extra):
    return {
        "labeler": "340d89bc-f5b7-45e9-b272-909ba68ee363",
        "timestamp": "2022-07-17T16:56:51.323252",
        "generation": None,
        "is_quality_control_question": False,
        "is_initial_screening_question": False,
        "question": {
            "problem": "What is $1+2\\cdot 3$?",
            "ground_truth_answer": "7",
            "ground_truth_solution": "...",
            "pre_generated_steps": [],
            "pre_generated_answer": "7",
            "pre_generated_verifier_score": 0.9,
        },
        "label": {"steps": steps, "total_time": 73000, "finish_reason": finish_reason},
        **extra,
    }


GOOD = {
    "completions": [_completion("First, $2\\cdot 3=6$.", 1), _completion("First, $1+2=3$.", -1)],
    "human_completion": None,
    "chosen_completion": 0,
}
NEUTRAL = {"completions": [_completion("We add.", 0)], "human_completion": None, "chosen_completion": 0}
ANSWER = {
    "completions": [_completion("So $1+6=7$. # Answer\n\n7", 1)],
    "human_completion": None,
    "chosen_completion": 0,
}
ERROR = {
    "completions": [_completion("So $1+6=8$.", -1), _completion("So the answer is 9.", -1)],
    "human_completion": None,
    "chosen_completion": None,
}
HUMAN = {
    "completions": [_completion("Hmm.", -1)],
    "chosen_completion": None,
    "human_completion": {
        "text": "So the sum is $7$.",
        "rating": None,
        "source": "human",
        "flagged": False,
        "corrected_rating": None,
    },
}


@pytest.fixture
def prm800k(tmp_path):
    rows = [
        _row([GOOD, NEUTRAL, ANSWER], "solution"),
        _row([GOOD, ERROR], "found_error"),
        _row([GOOD], "give_up"),
        _row([], "bad_problem"),
        _row([GOOD, HUMAN], "solution"),
        _row([GOOD, ANSWER], "solution", is_quality_control_question=True),
        _row(
            [GOOD, {"completions": [_completion("x", 1)], "human_completion": None, "chosen_completion": None}, ANSWER],
            "solution",
        ),
    ]
    path = tmp_path / "phase2_train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_each_finish_reason(prm800k):
    imported = import_prm800k(prm800k)
    solution, found_error, human = imported.rows
    assert solution["steps"] == ["First, $2\\cdot 3=6$.", "We add.", "So $1+6=7$. # Answer\n\n7"]
    assert solution["gold_labels"] == [True, True, True]  # neutral (0) reads as "no mistake"
    assert found_error["steps"][-1] == "So $1+6=8$." and found_error["gold_labels"] == [True, False]
    assert human["gold_labels"] == [True, True] and human["steps"][-1] == "So the sum is $7$."
    assert solution["source"].endswith("phase2_train.jsonl:1") and solution["gold_answer"] == "7"
    reasons = {s["where"].rsplit(":", 1)[1]: s["reason"] for s in imported.skipped}
    assert reasons == {
        "3": "finish_reason give_up",
        "4": "finish_reason bad_problem",
        "6": "quality_control question",
        "7": "step 1: no chosen completion",
    }
    assert imported.skipped_by_reason() == {
        "finish_reason give_up": 1,
        "finish_reason bad_problem": 1,
        "quality_control question": 1,
        "step 1": 1,
    }


def test_rated_alternatives_become_labelled_steps(prm800k):
    rows = import_prm800k(prm800k, alternatives=True).rows
    alternatives = [r for r in rows if r["finish_reason"] == "alternative"]
    first_steps = [(r["steps"], r["gold_labels"]) for r in alternatives if len(r["steps"]) == 1]
    assert (["First, $1+2=3$."], [False]) in first_steps  # the rejected first step, rated -1
    second = [r for r in alternatives if r["steps"][:1] == ["First, $2\\cdot 3=6$."] and len(r["steps"]) == 2]
    assert (["First, $2\\cdot 3=6$.", "So the answer is 9."], [True, False]) in [
        (r["steps"], r["gold_labels"]) for r in second
    ]
    assert len(rows) > 3


def test_quality_control_rows_can_be_kept(prm800k):
    assert len(import_prm800k(prm800k, quality_control=True).rows) == 4


def test_a_row_that_is_not_prm800k_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_row([GOOD], "solution")) + "\n" + json.dumps({"question": {}, "label": {}}) + "\n")
    with pytest.raises(DataError, match="bad.jsonl:2: field 'question.problem'"):
        import_prm800k(path)
    path.write_text(json.dumps(_row([{**GOOD, "completions": [_completion("a", 5)]}], "solution")) + "\n")
    with pytest.raises(DataError, match="bad.jsonl:1: field 'label.steps.0.completions.0.rating'"):
        import_prm800k(path)
