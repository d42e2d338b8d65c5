"""Hypothesis-generated LaTeX through both math checkers (the 10,000-string run over every registered
checker is tests/test_robustness.py)."""

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verikit

LIMIT_S = 2.0


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
