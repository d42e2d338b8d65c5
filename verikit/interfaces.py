"""The four contracts of process verification. Domains implement them; the core only calls them.

A domain brings an :class:`AnswerChecker` (and usually a :class:`StepSplitter`); the core brings
completers and estimators that work for every domain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from verikit.types import StepLabel


class AnswerChecker(ABC):
    """Extracts a final answer from free text and decides whether two answers are equivalent.

    Contract, relied on by annotation (millions of calls on untrusted model output):

    * :meth:`extract` and :meth:`equivalent` **never raise** on model output: unparsable text gives
      ``None`` / ``False``.
    * A gold answer the checker understands is equivalent to its own normal form:
      ``equivalent(normalize(gold), gold)`` is true. Annotation and ``verikit check`` test exactly this
      before anything is sampled, and skip (with a message) the problems whose gold answer fails it, so a
      checker whose ``normalize`` and ``equivalent`` disagree labels nothing.
    * Every call returns within a bounded time (a few seconds at the very worst, usually microseconds).
      Anything that can blow up (symbolic algebra on model output) must run behind a hard time limit,
      e.g. :class:`verikit.timeouts.TimeLimitedRunner`; model output is never ``eval``-ed.

    Subclass it and register an instance factory with the ``register_answer_checkers`` hook::

        class YesNoChecker(AnswerChecker):
            name = "yes-no"
            def extract(self, text):
                words = text.lower().split()
                return next((w for w in reversed(words) if w in ("yes", "no")), None)
            def equivalent(self, pred, gold):
                return pred is not None and pred == gold.lower()
    """

    name: ClassVar[str] = ""

    @abstractmethod
    def extract(self, text: str) -> str | None:
        """The final answer stated in ``text``, or ``None`` if there is none."""

    @abstractmethod
    def equivalent(self, pred: str | None, gold: str) -> bool:
        """Whether the extracted answer ``pred`` means the same as the gold answer ``gold``."""

    def normalize(self, answer: str | None) -> str | None:
        """A canonical key for grouping equivalent answers (used by majority voting).

        The default is the stripped string; checkers with richer notions of equality override it.
        """
        return None if answer is None else answer.strip()

    def is_correct(self, solution_text: str, gold_answer: str) -> bool:
        """Whether the answer stated in ``solution_text`` is equivalent to ``gold_answer``."""
        return self.equivalent(self.extract(solution_text), gold_answer)


class StepSplitter(ABC):
    """Cuts a solution into steps and puts steps back together.

    Contract: ``split(join(steps)) == steps`` for steps that contain no separator, and
    ``join(split(text)) == text`` for every text in the splitter's canonical form (every output of
    ``join``; some splitters, e.g. the line splitter, round-trip every string).
    """

    name: ClassVar[str] = ""

    @abstractmethod
    def split(self, text: str) -> list[str]:
        """The steps of ``text``, in order."""

    @abstractmethod
    def join(self, steps: Sequence[str]) -> str:
        """The text whose split is ``steps``."""


class Completer(ABC):
    """Samples continuations of prompts: the generator and the Monte Carlo completer of the paper."""

    name: ClassVar[str] = ""

    @abstractmethod
    def complete(self, prompts: Sequence[str], n: int = 1, **sampling) -> list[list[str]]:
        """``n`` continuations for each prompt: ``result[i][j]`` is the j-th continuation of prompt i.

        ``sampling`` takes at least ``temperature`` (0 means greedy), ``top_p``, ``max_new_tokens``,
        ``stop`` (strings that end a continuation: the returned text ends right after the first one, which
        it includes) and ``seed`` (same seed and inputs give the same output). Implementations batch
        across prompts; the returned text excludes the prompt.

        Backends that run locally also take ``progress`` (called with the number of prompts finished) and
        ``cancel`` (a ``threading.Event``: once set, the call stops between decoding steps and raises
        :class:`verikit.errors.Cancelled`), which ``verikit serve`` uses when a client goes away.
        """

    def context_window(self) -> int | None:
        """Positions the model reads (prompt plus generated tokens), or ``None`` when unknown."""
        return None

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        """Each text's length in the model's tokens, or ``None`` when this backend cannot tell."""
        return None

    @staticmethod
    def checked_stop(n: int, stop: Sequence[str] | None) -> list[str]:
        """The request checks every backend shares: ``n >= 1``; returns the non-empty stop strings."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        return [s for s in (stop or []) if s]


class Estimator(ABC):
    """Turns the verdicts of the rollouts from one step into that step's label."""

    name: ClassVar[str] = ""

    @abstractmethod
    def label(self, verdicts: Sequence[bool]) -> StepLabel:
        """The label of a step whose rollouts reached the gold answer where ``verdicts`` is True."""
