"""Symbolic equivalence via math-verify (sympy underneath). Runs *only* inside the time-limited helper
process of :mod:`verikit.timeouts`: sympy on model output can take unbounded time or memory."""

from __future__ import annotations


def symbolic_equal(pred: str, gold: str) -> bool:
    try:
        from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify
    except ImportError:  # math-verify is absent (e.g. the lent GPU machine): string rules only
        return False
    config = [LatexExtractionConfig(), ExprExtractionConfig()]
    gold_parsed = parse(f"${gold}$", extraction_config=config)
    pred_parsed = parse(f"${pred}$", extraction_config=config)
    if not gold_parsed or not pred_parsed:
        return False
    return bool(verify(gold_parsed, pred_parsed))


def warm_up() -> None:
    """Build math-verify's parsers once in the helper, so every forked call inherits them ready."""
    symbolic_equal("x^2+1", "1+x^2")
