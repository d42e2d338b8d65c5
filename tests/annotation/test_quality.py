import json

import pytest

from verikit.annotation.quality import evaluate_labels, load_prm800k
from verikit.errors import DataError


def _record(key, steps, verdicts, final_correct, strategy="naive", n=4):
    return {
        "key": key,
        "problem_id": key,
        "question": "q",
        "gold_answer": "1",
        "domain": "toy",
        "steps": steps,
        "verdicts": verdicts,
        "final_correct": final_correct,
        "strategy": strategy,
        "n_rollouts": n,
        "error": None,
    }


def test_labels_are_scored_against_gold_for_each_strategy_and_n():
    gold = {"a": [True, True, False], "b": [True, False, False]}
    records = [
        _record("a", ["s1", "s2", "s3"], ["1111", "0011", ""], False),  # naive N=1 misses step 2: a false negative
        _record("b", ["s1", "s2", "s3"], ["0100", "0000", ""], False),
    ]
    result = evaluate_labels(records, lambda problem, steps: gold[problem.id], ns=(1, 4))
    assert result["naive"][4]["accuracy"] == 1.0
    assert result["naive"][1]["accuracy"] == pytest.approx(4 / 6)  # a's step 2 and b's step 1 missed
    assert result["early-exit"][1]["accuracy"] == pytest.approx(4 / 6)  # same misses: no later step witnesses them
    assert result["naive"][4]["rollouts_per_solution"] == 8
    assert result["binary-search"][4]["rollouts_per_solution"] < 8
    assert result["counts"] == {
        "solutions": 2,
        "steps": 6,
        "bad_steps": 3,
        "correct_solutions": 0,
        "excluded_with_error": 0,
    }
    assert result["soft"][4]["step_auc"] == 1.0


def test_quality_needs_naive_annotation_with_enough_rollouts():
    with pytest.raises(DataError, match="naive annotation with N >= 8"):
        evaluate_labels([_record("a", ["s"], ["1111"], None)], lambda p, s: [True], ns=(8,))


def test_prm800k_rows_become_steps_with_human_labels(tmp_path):
    row = {
        "question": {"problem": "What is 1+1?", "ground_truth_answer": "2"},
        "label": {
            "steps": [
                {"completions": [{"text": "1+1=2.", "rating": 1}], "chosen_completion": 0},
                {
                    "completions": [{"text": "So 3.", "rating": -1}, {"text": "So 2.", "rating": 1}],
                    "chosen_completion": 0,
                },
                {
                    "completions": [{"text": "x", "rating": 0}],
                    "chosen_completion": None,
                    "human_completion": {"text": "The answer is 2.", "rating": None},
                },
            ]
        },
    }
    path = tmp_path / "prm800k.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps({"question": {}, "label": {}}) + "\n")
    with pytest.raises(DataError, match="prm800k.jsonl:2: field 'question.problem'"):
        load_prm800k(path)
    path.write_text(json.dumps(row) + "\n")
    [parsed] = load_prm800k(path)
    assert parsed["steps"] == ["1+1=2.", "So 3.", "The answer is 2."]
    assert parsed["gold_labels"] == [True, False, True] and parsed["gold_answer"] == "2"
    row["label"]["steps"][1]["chosen_completion"] = 5  # beyond its two completions: that row is skipped, loudly
    path.write_text(json.dumps(row) + "\n")
    assert load_prm800k(path) == []
