"""Exact parsing of the plain numbers that math answers are made of (no eval, bounded work)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

#: Numbers longer than this are compared as canonical digit strings, never converted (CPython refuses
#: int() of > 4300 digits, and nothing good comes of arithmetic on them anyway).
MAX_DIGITS = 200

_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_SIMPLE_FRACTION = re.compile(r"([+-]?)(\d+)/(\d+)")


def canonical_decimal(text: str) -> str | None:
    """``"-0012.500"`` → ``"-12.5"``; ``None`` unless ``text`` is a plain decimal. Works for any length."""
    if not _DECIMAL.fullmatch(text):
        return None
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-")
    whole, _, frac = body.partition(".")
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    if whole == "0" and not frac:
        sign = ""
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


def to_fraction(text: str) -> Fraction | None:
    """The exact value of a plain decimal or ``a/b`` string, or ``None`` (also for over-long numbers)."""
    text = text.strip()
    if len(text) > MAX_DIGITS:
        return None
    if _DECIMAL.fullmatch(text):
        try:
            return Fraction(Decimal(text))
        except (InvalidOperation, ValueError):
            return None
    match = _SIMPLE_FRACTION.fullmatch(text)
    if match and int(match.group(3)) != 0:
        value = Fraction(int(match.group(2)), int(match.group(3)))
        return -value if match.group(1) == "-" else value
    return None


def numbers_equal(a: str, b: str) -> bool | None:
    """Whether two number strings are equal; ``None`` if either is not a plain number."""
    fa, fb = to_fraction(a), to_fraction(b)
    if fa is not None and fb is not None:
        return fa == fb
    ca, cb = canonical_decimal(a), canonical_decimal(b)
    if ca is not None and cb is not None:  # too long for exact arithmetic: compare canonical digits
        return ca == cb
    return None
