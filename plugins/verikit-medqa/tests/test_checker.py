"""The chosen option is read from the ways people and models state it, and graded against the gold letter."""

import pytest

import verikit

GOLD = "C: Metformin"


@pytest.fixture(scope="module")
def checker():
    return verikit.answer_checker("medqa")


@pytest.mark.parametrize(
    "text, chosen",
    [
        ("Metformin lowers hepatic glucose output. The answer is (C).", "C"),
        ("Answer: C.", "C"),
        ("the answer is: c)", "C"),
        ("So the correct answer is option c", "C"),
        ("The answer would be choice D because it is safest.", "D"),
        ("Insulin is not first line.\nC.", "C"),
        ("Reasoning above.\n(B) Insulin glargine", "B"),
        ("Reasoning above.\nI would pick option e", "E"),
        ("The answer is C\nThis is because of lactic acidosis risk.", "C"),
        ("Option A is wrong. Option B is wrong. The answer is (C).", "C"),
        ("The answer is A. Later I reconsidered: the answer is B.", "B"),
    ],
)
def test_the_chosen_letter_is_extracted(checker, text, chosen):
    assert checker.extract(text) == chosen


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The answer is a biguanide such as metformin", "biguanide such as metformin"),  # "a" is an article, not (A)
        ("The answer is Metformin.", "metformin"),
        ("First-line therapy here:\nMetformin", "metformin"),
    ],
)
def test_without_a_letter_the_stated_text_is_kept(checker, text, expected):
    assert checker.extract(text) == expected


@pytest.mark.parametrize(
    "text, correct",
    [
        ("The answer is (C).", True),
        ("The answer is (B).", False),
        ("The answer is metformin.", True),  # the gold option's text itself
        ("The answer is THE   metformin!", True),  # case, spacing, article and punctuation do not matter
        ("The answer is glibenclamide.", False),
        ("I am not sure.", False),
        ("", False),
    ],
)
def test_grading_against_the_gold_letter_and_its_text(checker, text, correct):
    assert checker.is_correct(text, GOLD) is correct


def test_a_bare_gold_letter_grades_letters_and_refuses_text(checker):
    assert checker.is_correct("Answer: (C)", "C")
    assert not checker.is_correct("The answer is metformin.", "C")


def test_normalize_groups_letters_regardless_of_case_for_majority_voting(checker):
    assert checker.normalize("c") == checker.normalize(" C ") == "C"
    assert checker.normalize("The Metformin.") == "metformin"
    assert checker.normalize(None) is None


def test_non_strings_are_wrong_not_errors(checker):
    assert checker.extract(None) is None
    assert checker.equivalent(None, GOLD) is False
    assert checker.equivalent("C", None) is False


def test_a_million_characters_that_nfkc_expands_are_normalised_in_bounded_time():
    import time

    import verikit

    checker = verikit.answer_checker("medqa")
    text = "\ufdfa" * 1_000_000  # one character NFKC turns into 18
    started = time.monotonic()
    checker.normalize(text)
    assert not checker.equivalent(text, "C: Metformin") and not checker.equivalent("C", text)
    assert time.monotonic() - started < 1.0  # was 8.4 s
