import pytest

import verikit


@pytest.fixture
def checker():
    return verikit.answer_checker("gsm8k")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18", "18"),
        ("#### 1,234", "1234"),
        ("so the total is 5. The answer is: $18.00.", "18"),
        ("The answer is 50%", "50"),
        ("He lost 3 and now has -3 apples", "-3"),
        ("The answer is \\boxed{42}", "42"),
        ("We get .5 of it", "0.5"),
        ("3 apples cost 12 dollars", "12"),
        ("no number at all", None),
        ("", None),
        ("We had 4 and 5. The answer is: seventeen.", "5"),
        ("9" * 10_000, "9" * 10_000),
    ],
)
def test_extracts_the_final_number(checker, text, expected):
    assert checker.extract(text) == expected


@pytest.mark.parametrize(
    "pred, gold, same",
    [
        ("18", "18", True),
        ("18.00", "18", True),
        ("1,000", "1000", True),
        ("$5", "5", True),
        ("50%", "50", True),
        ("0.5", "1/2", True),
        ("-3", "3", False),
        ("17", "18", False),
        (None, "18", False),
        ("abc", "18", False),
        ("1" * 5000, "1" * 5000, True),
        ("1" * 5000 + "2", "1" * 5001, False),
    ],
)
def test_equivalence_is_exact_and_notation_insensitive(checker, pred, gold, same):
    assert checker.equivalent(pred, gold) is same


def test_is_correct_combines_extraction_and_equivalence(checker):
    assert checker.is_correct("Janet sells 9 eggs ... #### 18", "18")
    assert not checker.is_correct("#### 17", "18")
