"""The exact gold step labeller: hand-written cases, then properties over generated solutions."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verikit.errors import DataError
from verikit_arith.expressions import parse
from verikit_arith.labeller import first_error, step_correctness
from verikit_arith.mistakes import MISTAKE_KINDS, solution_with_mistake
from verikit_arith.problems import canonical_steps, load_split, make_problem

PROBLEM = make_problem("7+3*4-2", "arith-easy", "hand-1")  # 7+12-2 = 17


def labels(*steps):
    return step_correctness(PROBLEM, list(steps))


def test_a_correct_solution_is_all_correct():
    assert PROBLEM.gold_steps == ["Step 1: 3*4=12", "Step 2: 7+12=19", "Step 3: 19-2=17", "The answer is 17"]
    assert labels(*PROBLEM.gold_steps) == [True, True, True, True]


def test_an_arithmetic_slip_in_step_one_makes_every_step_wrong():
    assert labels("Step 1: 3*4=13", "Step 2: 7+13=20", "Step 3: 20-2=18", "The answer is 18") == [False] * 4


def test_a_true_equation_on_the_wrong_operand_is_wrong():
    assert labels("Step 1: 3*5=15", "Step 2: 7+15=22", "Step 3: 22-2=20", "The answer is 20") == [False] * 4


def test_a_true_equation_in_the_wrong_order_is_wrong():
    assert labels("Step 1: 7+3=10", "Step 2: 10*4=40", "Step 3: 40-2=38", "The answer is 38") == [False] * 4


def test_the_right_answer_through_a_wrong_step_is_still_wrong_from_that_step():
    steps = ["Step 1: 3*4=12", "Step 2: 7+12=20", "Step 3: 20-3=17", "The answer is 17"]
    assert labels(*steps) == [True, False, False, False]
    assert first_error(labels(*steps)) == 1


def test_a_step_that_skips_ahead_or_repeats_is_wrong():
    assert labels("Step 1: 3*4=12", "Step 2: 3*4=12") == [True, False]  # 3*4 is no longer in 7+12-2
    assert labels("Step 1: 19-2=17") == [False]  # 19 does not exist yet


def test_another_valid_order_is_correct():
    problem = make_problem("2+4+5", "arith-easy", "hand-2")
    assert step_correctness(problem, ["Step 1: 4+5=9", "Step 2: 2+9=11", "The answer is 11"]) == [True, True, True]
    assert step_correctness(problem, ["Step 1: 4+5=9", "Step 2: 2+4=6"]) == [True, False]


def test_a_wrong_final_answer_line_is_the_only_wrong_step():
    assert labels(*PROBLEM.gold_steps[:3], "The answer is 18") == [True, True, True, False]


def test_garbage_and_misnumbered_steps_are_wrong():
    assert labels("Step 2: 3*4=12") == [False]
    assert labels("3*4=12") == [False]
    assert labels("Step 1: 3*4=12", "") == [True, False]
    assert labels(*PROBLEM.gold_steps[:2], "The answer is 19") == [True, True, False]  # answered too early


def test_a_problem_whose_gold_answer_is_not_numeric_is_a_clear_error():
    bad = PROBLEM.model_copy(update={"gold_answer": "seventeen"})
    with pytest.raises(DataError, match="gold answer 'seventeen' is not an integer"):
        step_correctness(bad, PROBLEM.gold_steps)
    wrong = PROBLEM.model_copy(update={"gold_answer": "18"})
    with pytest.raises(DataError, match="differs from the expression's value 17"):
        step_correctness(wrong, PROBLEM.gold_steps)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    kind=st.sampled_from(MISTAKE_KINDS),
    preset=st.sampled_from(["arith-easy", "arith-hard"]),
)
def test_generated_solutions_are_labelled_right_up_to_their_mistake(seed, kind, preset):
    problem = load_split(preset, "dev", limit=50)[seed % 50]
    expression = parse(problem.metadata["expression"])
    assert step_correctness(problem, canonical_steps(expression)) == [True] * len(problem.gold_steps)
    steps, wrong_at = solution_with_mistake(expression, random.Random(seed), kind)
    verdicts = step_correctness(problem, steps)
    if wrong_at < 0:
        assert all(verdicts)
        return
    assert all(verdicts[:wrong_at])
    assert not any(verdicts[wrong_at + 1 :]) or verdicts[wrong_at]  # a legal reordering can be a "mistake" that is fine
    if not verdicts[wrong_at]:
        assert first_error(verdicts) == wrong_at
    # Once a step is wrong, every later step is wrong, and a wrong step never leads to the gold answer line.
    first = first_error(verdicts)
    if first >= 0:
        assert not any(verdicts[first:])
