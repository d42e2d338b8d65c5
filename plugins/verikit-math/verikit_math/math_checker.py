"""The MATH answer checker: last ``\\boxed{}``, notation-insensitive comparison, time-limited sympy."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

from verikit.errors import CallTimeout
from verikit.interfaces import AnswerChecker
from verikit.timeouts import TimeLimitedRunner

from verikit_math.latex import last_boxed, matrix_cells, normalize, split_top_level
from verikit_math.numbers import numbers_equal, to_fraction

_ANSWER_IS = re.compile(r"(?:final answer|answer) is\s*:?\s*\$?([^\n$]+)\$?", re.IGNORECASE)
_SIMPLE_FRACTION = re.compile(r"^(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}$")
_BRACKETS = {"(": ")", "[": "]", "\\{": "\\}"}
#: Inputs that sympy is not even shown: too long, unknown commands, or shapes that explode
#: (exponent towers, big exponents, factorials of big numbers, long numbers, deep fractions).
_MAX_SYMBOLIC_CHARS = 200
_EXPLOSIVE = re.compile(
    r"\^\s*\{?\s*-?\d{3,}|\^\s*\{[^{}]*\^|\^\s*\(?[^{}()]*\^|\d{16,}|\d[eE][+-]?\d{3,}|!\s*!|\d{2,}\s*!|[)}]\s*!|(?:\\frac\{[^{}]*){5,}"
)
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_SYMBOLIC_COMMANDS = frozenset(
    "frac sqrt pi cdot times div infty pm mp sin cos tan cot sec csc arcsin arccos arctan log ln exp theta alpha "
    "beta gamma le ge leq geq ne neq lt gt cup cap emptyset in circ binom dots ldots cdots mathbb operatorname".split()
)


def _has_free_variable(text: str) -> bool:
    """A letter outside a LaTeX command name and other than the constants e, i (``\\pi`` is a command)."""
    return bool(re.search(r"[a-df-hj-zA-Z]", _COMMAND.sub("", text)))


def plausible_for_sympy(text: str) -> bool:
    """Whether ``text`` is worth a symbolic attempt: short ASCII math built from known commands only."""
    if not text or len(text) > _MAX_SYMBOLIC_CHARS or not text.isascii() or not text.isprintable():
        return False
    if text.count("{") != text.count("}") or text.count("(") != text.count(")") or _EXPLOSIVE.search(text):
        return False
    if any(command not in _SYMBOLIC_COMMANDS for command in _COMMAND.findall(text)):
        return False
    return bool(re.search(r"[0-9A-Za-z]", text)) and not re.search(r"__|import|lambda|['\"`;@#]", text)

_runner_lock = threading.Lock()
_runner: TimeLimitedRunner | None = None


def _symbolic_runner() -> TimeLimitedRunner:
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = TimeLimitedRunner(preload=("verikit_math.symbolic:warm_up",))
        return _runner


def _as_number(normalized: str) -> str:
    match = _SIMPLE_FRACTION.match(normalized)
    if match:
        sign = "-" if (match.group(1) == "-") != match.group(2).startswith("-") else ""
        return f"{sign}{match.group(2).lstrip('-')}/{match.group(3)}"
    return normalized


class MATHChecker(AnswerChecker):
    """Answers as in Hendrycks' MATH: LaTeX expressions, intervals, tuples, matrices, text answers.

    Decided in order, cheapest first: canonical strings equal (``\\dfrac12`` = ``\\frac{1}{2}``,
    ``\\left(`` = ``(``, degrees/units/``\\text`` dropped); exact numbers equal (``0.5`` = ``\\frac12``);
    element-wise for tuples, intervals and matrices; finally symbolic equivalence with math-verify in a
    helper process killed after ``symbolic_timeout`` seconds (never ``eval``, works off the main thread).
    """

    name = "math"

    def __init__(self, symbolic_timeout: float = 1.0, use_symbolic: bool = True, cache_size: int = 65536):
        self.symbolic_timeout = symbolic_timeout  # the whole symbolic budget of one ``equivalent`` call
        self.use_symbolic = use_symbolic
        self.symbolic_timeouts = 0
        self._cache: dict[tuple[str, str], bool] = {}
        self._cache_size = cache_size
        self._deadline = 0.0

    def prepare(self) -> None:
        """Start the symbolic helper process now rather than inside the first ``equivalent`` call."""
        if self.use_symbolic:
            _symbolic_runner().call("verikit_math.symbolic:symbolic_equal", "1", "1", timeout=30.0)

    def extract(self, text: str) -> str | None:
        if not isinstance(text, str) or not text:
            return None
        boxed = last_boxed(text[-20_000:])
        if boxed is not None:
            return boxed.strip()
        matches = _ANSWER_IS.findall(text[-20_000:])
        if matches:
            return matches[-1].strip().rstrip(".").strip()
        return None

    def normalize(self, answer: str | None) -> str | None:
        if answer is None:
            return None
        try:
            return normalize(answer)
        except Exception:  # contract: never raise on model output
            return answer.strip()

    def equivalent(self, pred: str | None, gold: str) -> bool:
        if pred is None or not isinstance(pred, str) or not isinstance(gold, str):
            return False
        key = (pred, gold)
        if key in self._cache:
            return self._cache[key]
        self._deadline = time.monotonic() + self.symbolic_timeout
        try:
            result = self._equivalent(self.normalize(pred), self.normalize(gold), depth=0)
        except Exception:
            result = False
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[key] = result
        return result

    def _equivalent(self, p: str, g: str, depth: int) -> bool:
        if p == g:
            return True
        if not p or not g or depth > 3:
            return False
        p_number, g_number = _as_number(p), _as_number(g)
        same = numbers_equal(p_number, g_number)
        if same is not None:
            return same
        if (to_fraction(p_number) is not None and _has_free_variable(g)) or (
            to_fraction(g_number) is not None and _has_free_variable(p)
        ):
            return False  # a number never equals an expression in a free variable
        structured = self._structured_equal(p, g, depth)
        if structured is not None:
            return structured
        return self._symbolic(p, g)

    def _structured_equal(self, p: str, g: str, depth: int) -> bool | None:
        """Tuples, intervals and matrices compared element by element; ``None`` if not such a shape."""
        pm, gm = matrix_cells(p), matrix_cells(g)
        if pm is not None and gm is not None:
            if [len(r) for r in pm] != [len(r) for r in gm]:
                return False
            return all(self._equivalent(a, b, depth + 1) for ra, rb in zip(pm, gm) for a, b in zip(ra, rb))
        shape_p, shape_g = self._bracketed(p), self._bracketed(g)
        if shape_p is None or shape_g is None:
            return None
        (open_p, close_p, items_p), (open_g, close_g, items_g) = shape_p, shape_g
        if len(items_p) < 2 or len(items_g) < 2:
            return None  # "(3)" is a parenthesised expression, not a tuple
        if len(items_p) != len(items_g) or (open_p, close_p) != (open_g, close_g):
            return False
        if open_g in ("\\{", ""):  # sets and bare lists of solutions: order does not matter
            return self._same_elements(items_p, items_g, depth)
        return all(self._equivalent(a, b, depth + 1) for a, b in zip(items_p, items_g))

    def _same_elements(self, items_p: list[str], items_g: list[str], depth: int) -> bool:
        """Whether two unordered lists match one to one. Equal strings and equal numbers are paired first by
        counting (linear time: two 3,000-element sets are compared in milliseconds, not 20 s); only what is
        left is compared pair by pair, and that search stops at the call's deadline (then: not equal)."""
        def key(item: str):
            value = to_fraction(_as_number(item))
            return ("number", value) if value is not None else ("text", item)

        keyed_p, keyed_g = Counter(map(key, items_p)), Counter(map(key, items_g))
        common = keyed_p & keyed_g
        rest_p, rest_g = keyed_p - common, keyed_g - common
        if not rest_p and not rest_g:
            return True
        if any(kind == "number" for kind, _ in rest_p) and any(kind == "number" for kind, _ in rest_g) and \
                all(kind == "number" for kind, _ in (*rest_p, *rest_g)):
            return False  # unmatched plain numbers on both sides: no other pairing can make them equal
        originals = {key(item): item for item in (*items_p, *items_g)}
        unmatched = [originals[k] for k in rest_g.elements()]
        for item in (originals[k] for k in rest_p.elements()):
            if time.monotonic() > self._deadline:
                return False
            match = next((i for i, g_item in enumerate(unmatched) if self._equivalent(item, g_item, depth + 1)), None)
            if match is None:
                return False
            unmatched.pop(match)
        return not unmatched

    @staticmethod
    def _bracketed(s: str) -> tuple[str, str, list[str]] | None:
        for opener in ("\\{", "(", "["):
            if s.startswith(opener):
                closer = s[-2:] if s.endswith("\\}") else s[-1:]
                if closer in (")", "]", "\\}"):
                    inner = s[len(opener) : len(s) - len(closer)]
                    return opener, closer, split_top_level(inner)
        if "," in s and not any(c in s for c in "()[]{}"):
            return "", "", split_top_level(s)  # a bare list "1,2,3"
        return None

    def _symbolic(self, p: str, g: str) -> bool:
        if not self.use_symbolic:
            return False
        if not (plausible_for_sympy(p) and plausible_for_sympy(g)):
            return False
        budget = self._deadline - time.monotonic()
        if budget < 0.05:
            return False
        try:
            return bool(_symbolic_runner().call("verikit_math.symbolic:symbolic_equal", p, g, timeout=budget))
        except CallTimeout:
            self.symbolic_timeouts += 1
            return False
        except Exception:
            return False
