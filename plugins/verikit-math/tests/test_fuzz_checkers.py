"""≥ 10,000 adversarial strings through both math checkers: nothing escapes, no call over 2 s."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verikit
from verikit.adversarial import adversarial_strings

N_STRINGS = 10_000
LIMIT_S = 2.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gsm8k", "math"])
def test_ten_thousand_adversarial_strings(name):
    checker = verikit.answer_checker(name)
    if hasattr(checker, "prepare"):
        checker.prepare()  # the helper's one-time start-up is not a checker call
    strings = adversarial_strings(N_STRINGS, seed=2024)
    slowest, slowest_input = 0.0, None
    for index, text in enumerate(strings):
        gold = strings[(index * 7919) % N_STRINGS]
        started = time.perf_counter()
        extracted = checker.extract(text)
        assert extracted is None or isinstance(extracted, str)
        assert isinstance(checker.equivalent(extracted if extracted is not None else text, gold), bool)
        checker.normalize(extracted)
        elapsed = time.perf_counter() - started
        if elapsed > slowest:
            slowest, slowest_input = elapsed, text[:80]
    assert slowest < LIMIT_S, f"{name}: slowest call {slowest:.2f}s on {slowest_input!r}"


latex_text = st.lists(
    st.sampled_from(list("0123456789+-*/^_{}()[],.=!x \\") + ["\\frac", "\\boxed{", "\\sqrt", "\\pi", "ки", "é"]),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=latex_text, gold=latex_text)
def test_hypothesis_generated_latex_never_raises(text, gold):
    for name in ("gsm8k", "math"):
        checker = verikit.answer_checker(name)
        started = time.perf_counter()
        checker.equivalent(checker.extract(text), gold)
        checker.equivalent(text, gold)
        assert time.perf_counter() - started < 2 * LIMIT_S
