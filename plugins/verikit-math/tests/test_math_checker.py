import threading

import pytest

import verikit
from verikit_math.latex import last_boxed, normalize


@pytest.fixture(scope="module")
def checker():
    checker = verikit.answer_checker("math")
    checker.prepare()
    return checker


@pytest.mark.parametrize(
    "text, expected",
    [
        ("so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
        ("\\boxed{1} then \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("\\fbox{x^{2}}", "x^{2}"),
        ("\\boxed{\\begin{pmatrix} 1 \\\\ {2} \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ {2} \\end{pmatrix}"),
        ("the answer is \\boxed 5.", "5."),
        ("unbalanced \\boxed{\\frac{1}{2}", None),
        ("no box", None),
    ],
)
def test_last_boxed_handles_nesting(text, expected):
    assert last_boxed(text) == expected


def test_extract_falls_back_to_the_answer_is(checker):
    assert checker.extract("The final answer is $\\frac{3}{4}$.") == "\\frac{3}{4}"
    assert checker.extract("nothing here") is None


EQUIVALENT = [
    ("0.5", "\\frac12"),
    ("\\dfrac{1}{2}", "\\frac{1}{2}"),
    ("\\tfrac{1}{2}", "0.5"),
    ("\\left(3,\\frac{\\pi}{2}\\right)", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("90^\\circ", "90"),
    ("90^{\\circ}", "90"),
    ("10\\text{ inches}", "10"),
    ("\\text{Monday}", "Monday"),
    ("[1,2)", "[1, 2)"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ("\\text{(C)}", "C"),
    ("\\{1,2\\}", "\\{2,1\\}"),
    ("x=5", "5"),
    ("1,000", "1000"),
    ("\\$18", "18"),
    ("5\\%", "5"),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}"),
    ("(x+1)^2", "x^2+2x+1"),
    ("\\sqrt2/2", "\\frac{\\sqrt{2}}{2}"),
    ("-\\frac{1}{3}", "\\frac{-1}{3}"),
    ("2, 1", "1,2"),
    ("(1, -\\frac{1}{2})", "\\left(1,-0.5\\right)"),
]
DIFFERENT = [
    ("(1,2]", "[1,2]"),
    ("2", "3"),
    ("(1,2)", "(2,1)"),
    ("x", "5"),
    ("\\frac{1}{3}", "0.33"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}2\\\\1\\end{pmatrix}"),
    ("x^2", "x^3"),
]


@pytest.mark.parametrize("pred, gold", EQUIVALENT)
def test_equivalent_answers(checker, pred, gold):
    assert checker.equivalent(pred, gold)


@pytest.mark.parametrize("pred, gold", DIFFERENT)
def test_different_answers(checker, pred, gold):
    assert not checker.equivalent(pred, gold)


def test_normalize_is_idempotent_on_examples():
    for pred, gold in EQUIVALENT + DIFFERENT:
        for answer in (pred, gold):
            assert normalize(normalize(answer)) == normalize(answer)


def test_symbolic_check_is_time_limited_and_works_off_the_main_thread():
    checker = verikit.answer_checker("math")
    checker.prepare()
    results = {}

    def worker():
        results["equal"] = checker.equivalent("(x+1)^2", "x^2+2x+1")
        results["slow"] = checker.equivalent("x^{x^{x^{x^{x^{x}}}}} - 1", "2")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert results == {"equal": True, "slow": False}


def test_model_output_is_never_evaluated(checker, tmp_path):
    # The payloads name a file under pytest's temp folder, whose path is full of digits ("pytest-0/...0/pwned"),
    # so the GSM8K checker may legitimately read a number out of the path. What must never happen: the code
    # runs (the marker file), or a verdict comes from its value (os.system returns 0, the gold below).
    from verikit_math.gsm8k import _NUMBER, _clean_number

    marker = tmp_path / "pwned"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w')",
        f"exec(\"open('{marker}','w')\")",
    ]
    gsm8k = verikit.answer_checker("gsm8k")
    for payload in payloads:
        text = f"The answer is \\boxed{{{payload}}}"
        assert not checker.is_correct(text, "0")
        literal_numbers = {_clean_number(n) for n in _NUMBER.findall(text)}
        assert gsm8k.extract(text) in literal_numbers | {None}  # a number written in the text, never a computed one
    assert not marker.exists()


def test_large_unordered_sets_are_compared_in_linear_time(checker):
    import time

    forward = "\\{" + ",".join(str(i) for i in range(3000)) + "\\}"
    backward = "\\{" + ",".join(str(i) for i in reversed(range(3000))) + "\\}"
    shifted = "\\{" + ",".join(str(i) for i in range(1, 3001)) + "\\}"
    started = time.monotonic()
    assert checker.equivalent(forward, backward) and not checker.equivalent(forward, shifted)
    assert checker.equivalent("\\{\\frac{1}{2}, 3\\}", "\\{3, 0.5\\}")
    assert time.monotonic() - started < 1.0  # was 22.6 s: every element tried against every other
