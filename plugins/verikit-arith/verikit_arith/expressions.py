"""Exact arithmetic on flat expressions such as ``7+3*4-2`` (integers, + - * /, usual precedence).

An expression is a tuple of tokens ``(7, "+", 3, "*", 4, "-", 2)``. Values are exact ``Fraction``s and
nothing is ever ``eval``-ed.
"""

from __future__ import annotations

import re
from fractions import Fraction

Token = int | str
Expression = tuple[Token, ...]

OPERATORS = ("+", "-", "*", "/")
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_TOKEN = re.compile(r"\s*(?:(\d+)|([+\-*/]))")
MAX_TOKENS = 201  # 100 operations: far beyond any preset; bounds the work on hostile input


def parse(text: str) -> Expression | None:
    """``"7+-2*3"`` → ``(7, "+", -2, "*", 3)``; ``None`` unless it is a well-formed flat expression.

    A ``-`` where a number is expected (at the start or after an operator) is a sign.
    """
    tokens: list[Token] = []
    position, sign = 0, 1
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            return None
        position = match.end()
        number, operator = match.groups()
        expecting_number = not tokens or isinstance(tokens[-1], str)
        if number is not None:
            if not expecting_number or len(number) > 30:
                return None
            tokens.append(sign * int(number))
            sign = 1
        elif expecting_number:
            if operator != "-" or sign == -1:
                return None
            sign = -1
        else:
            tokens.append(operator)
        if len(tokens) > MAX_TOKENS:
            return None
    if not tokens or isinstance(tokens[-1], str) or sign == -1:
        return None
    return tuple(tokens)


def apply(left: Fraction | int, operator: str, right: Fraction | int) -> Fraction | None:
    """``left operator right`` exactly; ``None`` for a division by zero."""
    if operator == "+":
        return Fraction(left) + right
    if operator == "-":
        return Fraction(left) - right
    if operator == "*":
        return Fraction(left) * right
    if right == 0:
        return None
    return Fraction(left) / right


def canonical_index(expression: Expression) -> int:
    """Index of the operator the standard order reduces next: the leftmost of the highest precedence."""
    operators = range(1, len(expression), 2)
    best = max(_PRECEDENCE[expression[i]] for i in operators)
    return next(i for i in operators if _PRECEDENCE[expression[i]] == best)


def reduce_at(expression: Expression, index: int) -> tuple[Expression, Fraction | None]:
    """Replace ``a op b`` around operator ``index`` by its value; returns the new expression and the value."""
    value = apply(expression[index - 1], expression[index], expression[index + 1])
    if value is None or value.denominator != 1:
        return expression, value
    return expression[: index - 1] + (int(value),) + expression[index + 2 :], value


def evaluate(expression: Expression) -> Fraction | None:
    """The value under the usual precedence (``*``/``/`` before ``+``/``-``, left to right)."""
    values: list[Fraction] = [Fraction(expression[0])]
    pending: list[str] = []
    for operator, number in zip(expression[1::2], expression[2::2]):
        if _PRECEDENCE[operator] == 2:
            result = apply(values[-1], operator, number)
            if result is None:
                return None
            values[-1] = result
        else:
            pending.append(operator)
            values.append(Fraction(number))
    total = values[0]
    for operator, value in zip(pending, values[1:]):
        total = total + value if operator == "+" else total - value
    return total


def render(expression: Expression) -> str:
    """``(7, "+", -2)`` → ``"7+-2"``."""
    return "".join(str(token) for token in expression)
