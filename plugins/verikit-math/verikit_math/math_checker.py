"""The MATH answer checker: last ``\\boxed{}``, notation-insensitive comparison, time-limited sympy."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

from verikit.errors import CallTimeout
from verikit.interfaces import AnswerChecker
from verikit.timeouts import TimeLimitedRunner
from verikit_math.latex import encloses, last_boxed, matrix_cells, normalize, split_top_level
from verikit_math.numbers import numbers_equal, to_fraction

_ANSWER_IS = re.compile(r"(?:final answer|answer)(?:\s+is|\s*:)\s*:?\s*(?:\*\*)?", re.IGNORECASE)
_BOLD = re.compile(r"\*\*([^*\n]{1,120})\*\*")
_MATH_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
#: The end of a sentence: a period, "!" or "?" followed by a space or the end — not a decimal point ("2.5").
_SENTENCE_END = re.compile(r"(?<!\d)[.!?](?=\s|$)|(?<=\d)[.!?](?=\s+[A-Z]|\s*$)")
_NUMBER_TOKEN = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")
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


def _first_math_span(text: str) -> str | None:
    match = _MATH_SPAN.match(text.lstrip())
    return next((g for g in match.groups() if g is not None), None) if match else None


def _sentence(text: str) -> str:
    """``text`` up to the end of its first sentence (a decimal point does not end one)."""
    end = _SENTENCE_END.search(text)
    return text[: end.start()] if end else text


def _after_answer_is(tail: str) -> str | None:
    matches = list(_ANSWER_IS.finditer(tail))
    if not matches:
        return None
    rest = tail[matches[-1].end() :].split("\n\n", 1)[0].strip()
    span = _first_math_span(rest)
    if span is not None:
        return span.strip()
    line = rest.split("\n", 1)[0].split("**", 1)[0]  # a bold answer ends at its closing "**"
    return _sentence(line).strip().rstrip(".").strip() or None


def _closing_paragraph(tail: str) -> str:
    paragraphs = [p for p in tail.strip().split("\n\n") if p.strip()]
    return paragraphs[-1] if paragraphs else ""


def _closing_bold(tail: str) -> str | None:
    spans = _BOLD.findall(_closing_paragraph(tail))
    if not spans:
        return None
    span = spans[-1].strip()
    if span.endswith(":"):  # "**Final answer:** 5": the answer follows the label
        after = _closing_paragraph(tail).rsplit("**", 1)[-1]
        return _sentence(after.strip()).strip().rstrip(".") or None
    inner = _first_math_span(span)
    return (inner if inner is not None else span).strip().rstrip(".") or None


def _closing_sentence(tail: str) -> str | None:
    lines = [line.strip() for line in tail.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]
    spans = [next(g for g in m.groups() if g is not None) for m in _MATH_SPAN.finditer(last)]
    statement = spans[-1] if spans else last
    if "=" in statement:
        right = statement.rsplit("=", 1)[1]
        return _sentence(right).strip().rstrip(".").strip() or None
    if spans:
        return statement.strip() or None
    numbers = _NUMBER_TOKEN.findall(last)
    return numbers[-1] if numbers else None


def _union_parts(s: str) -> list[str]:
    """``[0,1]\\cup[2,3]`` → its two intervals (split at top-level ``\\cup`` only)."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(s):
        char = s[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and s.startswith("\\cup", index):
            parts.append(s[start:index])
            index += 4
            start = index
            continue
        index += 1
    parts.append(s[start:])
    return [p for p in parts if p]


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
    piece by piece for unions, tuples, intervals and matrices; finally symbolic equivalence with math-verify in a
    helper process stopped after ``symbolic_cpu_budget`` seconds of its CPU time (never ``eval``, works off the
    main thread; the wall clock caps a call at ``symbolic_timeout`` whatever the load).
    """

    name = "math"

    #: Pairings tried by an unordered comparison (sets, unions) before it gives up: a count, not a clock, so the
    #: verdict never depends on the machine's load.
    MAX_PAIRINGS = 2_000

    def __init__(
        self,
        symbolic_timeout: float = 1.5,
        use_symbolic: bool = True,
        cache_size: int = 65536,
        symbolic_cpu_budget: float = 0.5,
    ):
        # Two bounds on the symbolic step of one ``equivalent`` call. The budget that decides is CPU time spent by
        # the symbolic helper (``symbolic_cpu_budget``): a busy machine slows it down but does not use it up, so a
        # pair is graded the same on a loaded machine as on a quiet one. ``symbolic_timeout`` (wall clock) only
        # guarantees that no call runs longer, whatever the load; ``symbolic_wall_timeouts`` counts the calls it
        # cut short (verdicts that could differ under another load; 0 in a reproducible run).
        self.symbolic_timeout = symbolic_timeout
        self.symbolic_cpu_budget = symbolic_cpu_budget
        self.use_symbolic = use_symbolic
        self.symbolic_timeouts = 0
        self.symbolic_wall_timeouts = 0
        self._cache: dict[tuple[str, str], bool] = {}
        self._cache_size = cache_size
        self._deadline = 0.0
        self._cpu_left = 0.0
        self._pairings_left = 0

    def prepare(self) -> None:
        """Start the symbolic helper process now rather than inside the first ``equivalent`` call."""
        if self.use_symbolic:
            _symbolic_runner().call("verikit_math.symbolic:symbolic_equal", "1", "1", timeout=30.0)

    def extract(self, text: str) -> str | None:
        """The final answer, looked for in this order (the first kind found wins):

        1. the last ``\\boxed{}`` / ``\\fbox{}``;
        2. after the last "answer is" / "Answer:" — a math span there, else up to the end of its sentence
           ("The final answer is 2. I hope it is correct." gives ``2``);
        3. the last bold span of the closing paragraph (``**0**``; after its colon for a "**Answer:** 5" label);
        4. the closing sentence: its last math span, or failing that its text; the right side of its last ``=``
           ("Therefore $x^3 = 12$" gives ``12``), else its last number.
        """
        if not isinstance(text, str) or not text:
            return None
        tail = text[-20_000:]
        boxed = last_boxed(tail)
        if boxed is not None:
            return boxed.strip()
        for finder in (_after_answer_is, _closing_bold, _closing_sentence):
            found = finder(tail)
            if found:
                return found
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
        self._cpu_left = self.symbolic_cpu_budget
        self._pairings_left = self.MAX_PAIRINGS
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
        """Unions, tuples, intervals and matrices compared piece by piece; ``None`` if not such a shape."""
        pu, gu = _union_parts(p), _union_parts(g)
        if len(pu) > 1 or len(gu) > 1:  # a union of sets: the same pieces in any order, each compared whole
            return len(pu) == len(gu) and self._same_elements(pu, gu, depth)
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
        if (
            any(kind == "number" for kind, _ in rest_p)
            and any(kind == "number" for kind, _ in rest_g)
            and all(kind == "number" for kind, _ in (*rest_p, *rest_g))
        ):
            return False  # unmatched plain numbers on both sides: no other pairing can make them equal
        originals = {key(item): item for item in (*items_p, *items_g)}
        unmatched = [originals[k] for k in rest_g.elements()]
        for item in (originals[k] for k in rest_p.elements()):
            match = None
            for index, g_item in enumerate(unmatched):
                self._pairings_left -= 1
                if self._pairings_left < 0:
                    return False  # too many pairings to try: not shown equal
                if self._equivalent(item, g_item, depth + 1):
                    match = index
                    break
            if match is None:
                return False
            unmatched.pop(match)
        return not unmatched

    @staticmethod
    def _bracketed(s: str) -> tuple[str, str, list[str]] | None:
        for opener in ("\\{", "(", "["):
            if s.startswith(opener) and (opener == "\\{" or encloses(s)):
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
        wall = self._deadline - time.monotonic()
        if self._cpu_left < 0.02 or wall < 0.05:
            return False
        runner = _symbolic_runner()
        try:
            return bool(
                runner.call("verikit_math.symbolic:symbolic_equal", p, g, timeout=wall, cpu_time=self._cpu_left)
            )
        except CallTimeout as exc:
            self.symbolic_timeouts += 1
            self.symbolic_wall_timeouts += bool(getattr(exc, "wall_clock", False))
            return False
        except Exception:
            return False
        finally:
            self._cpu_left -= runner.last_cpu_seconds or 0.0
