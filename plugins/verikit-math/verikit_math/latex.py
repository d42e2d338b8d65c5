"""String-level LaTeX handling for MATH answers: finding ``\\boxed{}`` and canonicalising notation.

Everything here is linear-time string work with no evaluation, so it is safe on any model output.
"""

from __future__ import annotations

import re

_BOX_COMMANDS = ("\\boxed", "\\fbox")


def _braced(text: str, start: int) -> tuple[str, int] | None:
    """The content of the brace group opening at ``text[start] == "{"`` and the index after it."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : index], index + 1
    return None


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{…}`` / ``\\fbox{…}`` (nested braces handled), or ``\\boxed 5``."""
    best = -1
    command = ""
    for name in _BOX_COMMANDS:
        position = text.rfind(name)
        if position > best:
            best, command = position, name
    if best < 0:
        return None
    rest = best + len(command)
    while rest < len(text) and text[rest] == " " and command == "\\boxed":
        rest += 1
    if rest < len(text) and text[rest] == "{":
        found = _braced(text, rest)
        return found[0] if found else None
    if rest > best + len(command):  # "\boxed 5": the token after the space
        match = re.match(r"[^\s$]+", text[rest:])
        return match.group(0) if match else None
    return None


def unwrap_command(text: str, command: str) -> str:
    """Replace every ``\\command{X}`` by ``X`` (nested braces handled)."""
    out = []
    index = 0
    needle = command + "{"
    while True:
        position = text.find(needle, index)
        if position < 0:
            out.append(text[index:])
            return "".join(out)
        found = _braced(text, position + len(command))
        if found is None:
            out.append(text[index:])
            return "".join(out)
        out.append(text[index:position])
        out.append(found[0])
        index = found[1]


# "\\\\" (a row break) is matched first so that its second backslash is never read as "\\ " (a space).
_SPACING = re.compile(r"\\\\|\\[,;:! ]|\\quad|\\qquad|~")
_LEFT_RIGHT = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![A-Za-z])")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°")
_TEXT_UNIT_TAIL = re.compile(r"^(.*?[\d}])\s*\\(?:text|mbox|mathrm)\{\s*[A-Za-z][A-Za-z .]*\}$")
#: "\text {cm}" (a space before the brace) is "\text{cm}"
_COMMAND_SPACE = re.compile(r"\\(text|textbf|mbox|mathrm|mathbf|textit|boxed|frac|sqrt)\s+(?=\{)")
#: a bare unit word after a number: "2.5 meters", "12 square units" (the head holds no letter)
_WORD_UNIT_TAIL = re.compile(r"^([^A-Za-z\\]*\d)\s+[A-Za-z][A-Za-z .]*$")
_FRAC_SHORT = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_SHORT_DEN = re.compile(r"\\frac\s*(\{[^{}]*\})\s*(\d)")
_FRAC_SHORT_NUM = re.compile(r"\\frac\s*(\d)\s*(\{)")
_SQRT_SHORT = re.compile(r"\\sqrt\s*(\d|[a-zA-Z](?![a-zA-Z]))")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_LEADING_VARIABLE = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?'?=(?=.)")
#: a tuple of variables assigned: "(b,c)=(6,5)", "(x, y) = (1, 2)"
_LEADING_TUPLE = re.compile(r"^\(([A-Za-z](?:_\{?\w+\}?)?)(?:,[A-Za-z](?:_\{?\w+\}?)?)+\)=(?=.)")
_LONE_LETTER_CHOICE = re.compile(r"^\(([A-Za-z])\)$")


def normalize(answer: str) -> str:
    """A canonical string for a MATH answer: equal strings mean equal answers (not conversely).

    >>> normalize("\\\\left( 3, \\\\dfrac12 \\\\right)")
    '(3,\\\\frac{1}{2})'
    """
    s = answer.strip()
    s = s.replace("\n", " ").replace("\\displaystyle", "")
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = _LEFT_RIGHT.sub("", s)
    s = _DEGREES.sub("", s)
    s = s.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "")
    s = s.strip().rstrip(".").strip()
    s = _COMMAND_SPACE.sub(r"\\\1", s)
    words = _WORD_UNIT_TAIL.match(s)
    if words:  # "2.5 meters" → "2.5"
        s = words.group(1)
    unit = _TEXT_UNIT_TAIL.match(s)
    if unit:  # "10 \text{ inches}" → "10"; a bare "\text{Monday}" stays
        s = unit.group(1)
    for command in ("\\text", "\\textbf", "\\mbox", "\\mathrm", "\\mathbf", "\\textit"):
        if command in s:
            s = unwrap_command(s, command)
    s = _SPACING.sub(lambda m: m.group(0) if m.group(0) == "\\\\" else "", s)
    s = re.sub(r"\s+", "", s)
    s = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_SHORT_DEN.sub(r"\\frac\1{\2}", s)
    s = _FRAC_SHORT_NUM.sub(r"\\frac{\1}\2", s)
    s = _SQRT_SHORT.sub(r"\\sqrt{\1}", s)
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    if s.count("=") == 1 and (_LEADING_VARIABLE.match(s) or _LEADING_TUPLE.match(s)):
        s = s.split("=", 1)[1]
    s = re.sub(r"(?<![\d])\.(\d)", r"0.\1", s)
    choice = _LONE_LETTER_CHOICE.match(s)
    if choice:
        s = choice.group(1)
    return s


def encloses(text: str) -> bool:
    """Whether the bracket opening ``text`` closes at its very end (``[0,1]`` yes, ``[0,1]\\cup[2,3]`` no); any of
    ``( [`` opens and any of ``) ]`` closes, so half-open intervals ``[0,1)`` count."""
    depth = 0
    for index, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth == 0 and index != len(text) - 1:
                return False
    return depth == 0


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split at ``separator`` outside any (), [], {} nesting."""
    parts, depth, current = [], 0, []
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


_MATRIX = re.compile(r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$")


def matrix_cells(text: str) -> list[list[str]] | None:
    """Rows of cells of a ``\\begin{pmatrix}…\\end{pmatrix}`` answer (already normalised), or ``None``."""
    match = _MATRIX.match(text)
    if not match:
        return None
    body = match.group(2)
    return [row.split("&") for row in body.split("\\\\") if row != ""]
