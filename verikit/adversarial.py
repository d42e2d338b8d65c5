"""Seeded adversarial strings for robustness tests of answer checkers and step splitters.

The mix is what model output and hostile input throw at a checker: random LaTeX fragments, huge
exponents and factorials, deep ``\\frac{`` nesting and unbalanced braces, numbers of ten thousand digits,
unicode (Cyrillic step tags, RTL marks, emoji, NUL), and strings that would run code if anything
``eval``-ed them.
"""

from __future__ import annotations

import random

_FRAGMENTS = [
    "\\frac{",
    "}{",
    "}",
    "{",
    "\\boxed{",
    "\\fbox{",
    "\\sqrt{",
    "\\sqrt[3]{",
    "^",
    "_",
    "\\left(",
    "\\right)",
    "\\dfrac",
    "\\tfrac",
    "\\pi",
    "\\infty",
    "\\cdot",
    "\\times",
    "\\div",
    "\\pm",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "\\\\",
    "&",
    "\\text{",
    "\\mbox{",
    "^\\circ",
    "\\%",
    "\\$",
    "$",
    "$$",
    "\\[",
    "\\]",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "=",
    "+",
    "-",
    "*",
    "/",
    "!",
    "x",
    "y",
    "n",
    "e",
    "i",
    "\\log",
    "\\sin",
    "\\int",
    "\\sum_{k=1}^{\\infty}",
    "\\lim",
    "\\cup",
    "\\{",
    "\\}",
    "\\le",
    "\\ne",
    "#### ",
    "The answer is ",
    " ",
    "\n",
    "\t",
    "ки",
    "\u200f",
    "\u0000",
    "😀",
    "é",
    "∞",
    "√",
    "½",
    "٣",
]
_CODE = [
    "__import__('os').system('touch /tmp/verikit_pwned')",
    "exec(\"open('/tmp/verikit_pwned','w')\")",
    "eval('1+1')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: __import__('subprocess').call(['touch','/tmp/verikit_pwned'])",
]


def _number(rng: random.Random) -> str:
    digits = rng.choice([1, 2, 3, 8, 40, 400, 10_000])
    body = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(digits - 1))
    return rng.choice(["", "-"]) + body + rng.choice(["", ".5", ",000", "%", "e99999"])


def adversarial_string(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 40)))
    if kind == 1:
        base = rng.choice(["2", "10", "x", "9", "(1+x)"])
        return f"{base}^{{{rng.choice(['10', '99999', '10^{10^{10}}', '1000000000'])}}}" + rng.choice(["", "!", "!!"])
    if kind == 2:
        depth = rng.choice([5, 20, 200, 2000])
        return "\\frac{" * depth + "1" + "}{2}" * rng.randint(0, depth)
    if kind == 3:
        return _number(rng)
    if kind == 4:
        return "".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(1, 30)))
    if kind == 5:
        return rng.choice(["\\boxed{", "#### ", "The answer is ", "$"]) + rng.choice(_CODE) + rng.choice(["}", "", "$"])
    if kind == 6:
        inner = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 10)))
        return f"Step 1: {inner} ки\nThe answer is \\boxed{{{inner}}}"
    return f"{_number(rng)}{rng.choice(['!', '!!', '^{99}', '^{9999999}'])}"


def adversarial_strings(count: int, seed: int = 0) -> list[str]:
    """``count`` adversarial strings, the same ones for the same seed."""
    rng = random.Random(seed)
    return [adversarial_string(rng) for _ in range(count)]


def huge_solution(size: int = 10_000_000) -> str:
    """A ``size``-character solution (10 MB by default) that ends with an answer in every domain's syntax."""
    body = "Step 1: 12 + 30 = 42, and some words about it. "
    return (body * (size // len(body) + 1))[:size] + "\nThe answer is (B) 42 \\boxed{42}"


def many_step_solution(steps: int = 10_000) -> str:
    """A solution of ``steps`` short lines, then an answer line."""
    return "\n".join(f"Step {k}: {k} + 1 = {k + 1}." for k in range(1, steps + 1)) + f"\nThe answer is {steps + 1}."
