"""Failure kinds seen on real model outputs (ProcessBench's human-verified verdicts), one test per kind: the
tests are written from the kind, with inputs of our own, not from the items that showed it."""

import pytest

import verikit


@pytest.fixture(scope="module")
def math():
    return verikit.answer_checker("math")


@pytest.fixture(scope="module")
def gsm8k():
    return verikit.answer_checker("gsm8k")


@pytest.mark.parametrize(
    "text, gold",
    [
        ("We check both cases.\n\nSo the number of solutions is **3**.", "3"),  # bold, no box
        ("**Final Answer:** 7", "7"),  # a bold label
        ("Cubing both sides and simplifying,\n\nTherefore x^3 = 12", "12"),  # a closing equation
        ("Putting it together, we get $y = \\frac{2}{3}$.", "\\frac23"),  # closing math span
        ("Adding the two areas, the total is 45 square feet.", "45"),  # the last sentence
        ("The answer is 2.5 meters.", "\\frac52"),  # a unit word
    ],
)
def test_an_answer_without_a_box_is_found(math, text, gold):
    assert math.is_correct(text, gold), math.extract(text)


@pytest.mark.parametrize(
    "text, gold",
    [
        ("Final Answer: The final answer is 2. I hope it is correct.", "2"),
        ("Final Answer: The final answer is $\\frac{1}{4}$. I hope it is correct.", "\\frac14"),
        ("The final answer is 3.5. I hope it is correct.", "3.5"),
    ],
)
def test_the_final_answer_is_cut_at_the_end_of_its_sentence(math, text, gold):
    assert math.is_correct(text, gold), math.extract(text)


def test_a_wrong_closing_statement_is_not_accepted(math):
    assert not math.is_correct("Therefore x^3 = 13", "12")
    assert not math.is_correct("Final Answer: The final answer is 2. I hope it is correct.", "3")


@pytest.mark.parametrize(
    "pred, gold",
    [
        ("24 \\text {square inches}", "24"),  # a space between \text and its brace
        ("24\\text { in}^2", "24\\text{ in}^2"),
        ("\\text {Monday}", "\\text{Monday}"),
    ],
)
def test_text_with_a_space_before_its_brace_is_read_as_text(math, pred, gold):
    assert math.equivalent(pred, gold)


@pytest.mark.parametrize(
    "pred, gold, same",
    [
        ("(b,c)=(6,5)", "(6,5)", True),
        ("(x, y) = (1, -2)", "(1,-2)", True),
        ("(a,b)=(1,2)", "(2,1)", False),
        ("k'=3", "3", True),
    ],
)
def test_an_assigned_tuple_of_variables_is_its_value(math, pred, gold, same):
    assert math.equivalent(pred, gold) is same


@pytest.mark.parametrize(
    "pred, gold, same",
    [
        ("[0,1]\\cup[9,3]", "[0,1]\\cup[2,3]", False),  # the wrong accept: the middle was compared as "1]\cup[9"
        ("[0,1]\\cup[2,3]", "[0,1]\\cup[2,3]", True),
        ("[2,3]\\cup[0,1]", "[0,1]\\cup[2,3]", True),  # a union is a set of pieces
        ("(-\\infty,-1)\\cup(1,\\infty)", "(-\\infty,-1)\\cup(1,\\infty)", True),
        ("(-\\infty,-1)\\cup(1,\\infty)", "(-\\infty,-1]\\cup(1,\\infty)", False),
        ("[0,1]\\cup[2,3]", "[0,3]", False),
        ("[0,1)", "[0,1]", False),
    ],
)
def test_unions_of_intervals_are_compared_piece_by_piece(math, pred, gold, same):
    assert math.equivalent(pred, gold) is same


@pytest.mark.parametrize(
    "text, gold",
    [
        ("So it takes \\boxed{4 \\text{ weeks}}. That is 28 days.", "4"),  # a description inside the box
        ("\\boxed{\\text{She has } 18 \\text{ apples}}", "18"),
        ("It will take 4 weeks.", "4"),  # a unit word after the last number
        ("The answer is 1,200 dollars.", "1200"),
    ],
)
def test_gsm8k_units_and_descriptions(gsm8k, text, gold):
    assert gsm8k.is_correct(text, gold), gsm8k.extract(text)


def test_verdicts_do_not_depend_on_the_machines_load(math, busy_machine):
    """The symbolic step is bounded by the helper's CPU time, which a busy machine does not use up: the same pairs
    get the same verdicts with four processes spinning on the two cores, and no wall-clock cut decides any."""
    import time

    pairs = [
        ("\\frac{x^2-1}{x-1}", "x+1"),
        ("2x+2x", "4x"),
        ("(x+1)^{20}", "x^{20}+20x^{19}+1"),
        ("\\sqrt{8}", "2\\sqrt{2}"),
        ("e^{i\\pi}", "-1"),
        ("\\binom{10}{3}", "120"),
    ]

    def verdicts():
        checker = verikit.answer_checker("math")
        started = time.monotonic()
        result = [checker.equivalent(p, g) for p, g in pairs]
        assert time.monotonic() - started < 2.0 * len(pairs)
        return result, checker.symbolic_wall_timeouts

    quiet, quiet_cuts = verdicts()
    with busy_machine():
        busy, busy_cuts = verdicts()
    assert quiet == busy and quiet_cuts == busy_cuts == 0
    assert quiet[:2] == [True, True] and quiet[3] is True
