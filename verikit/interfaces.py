"""The contracts of process verification. Domains implement some of them; the core only calls them.

A domain brings an :class:`AnswerChecker` (and usually a :class:`StepSplitter`); the core brings
completers, estimators and scorers that work for every domain. Each kind is registered through its hook
(:mod:`verikit.hookspecs`) and looked up by name (:mod:`verikit.components`).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

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
            def normalize(self, answer):
                return None if answer is None else answer.strip().lower()
            def equivalent(self, pred, gold):
                return pred is not None and self.normalize(pred) == self.normalize(gold)
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


CHECKER_CONTRACT = (
    "an AnswerChecker never raises on model output: extract returns None and equivalent False for what it cannot read"
)


def checker_raised(checker: AnswerChecker, method: str, exc: BaseException) -> str:
    """The error a row records when ``checker.method`` broke the never-raise contract on it."""
    name = type(checker).name or type(checker).__name__
    return f"checker {name!r} raised in {method}: {type(exc).__name__}: {exc} ({CHECKER_CONTRACT})"


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


class Completions(list):
    """What :meth:`Completer.complete` returns: ``result[i][j]`` is the j-th continuation of prompt i, and
    ``result.token_counts[i][j]`` the number of tokens the model generated for it (``None`` when the
    backend cannot tell, e.g. a server that reports no usage)."""

    def __init__(self, texts: Sequence[Sequence[str]] = (), token_counts: Sequence[Sequence[int]] | None = None):
        super().__init__(list(t) for t in texts)
        if token_counts is not None:
            token_counts = [list(c) for c in token_counts]
            if [len(c) for c in token_counts] != [len(t) for t in self]:
                raise ValueError("token_counts must hold one count per continuation")
        self.token_counts: list[list[int]] | None = token_counts

    @classmethod
    def of(cls, result: Sequence[Sequence[str]]) -> Completions:
        """``result`` itself when it is a :class:`Completions`, else the same texts without token counts (for a
        third-party backend that returns plain lists)."""
        return result if isinstance(result, cls) else cls(result)

    def tokens(self, index: int) -> int:
        """Tokens generated for prompt ``index`` (characters when the backend did not count tokens)."""
        if self.token_counts is not None:
            return sum(self.token_counts[index])
        return sum(len(text) for text in self[index])


class Completer(ABC):
    """Samples continuations of prompts: the generator and the Monte Carlo completer of the paper.

    A backend's constructor takes ``model`` and ``max_new_tokens``; one that runs the model in this process
    may also take ``device`` and ``batch_size`` (:func:`accepted_settings` passes those only to backends
    that declare them — a server places and batches its model itself).
    """

    name: ClassVar[str] = ""

    @abstractmethod
    def complete(
        self, prompts: Sequence[str], n: int = 1, *, progress: Callable[[int], Any] | None = None, **sampling
    ) -> Completions:
        """``n`` continuations for each prompt, with their token counts (:class:`Completions`).

        ``sampling`` takes at least ``temperature`` (0 means greedy), ``top_p``, ``max_new_tokens``,
        ``stop`` (strings that end a continuation: the returned text ends right after the first one, which
        it includes) and ``seed`` (same seed and inputs give the same output). Implementations batch
        across prompts; the returned text excludes the prompt. ``progress``, when given, is called with the
        number of prompts finished as they finish.

        Backends that run locally also take ``cancel`` (a ``threading.Event``: once set, the call stops
        between decoding steps and raises :class:`verikit.errors.Cancelled`), which ``verikit serve`` uses
        when a client goes away.
        """

    def context_window(self) -> int | None:
        """Positions the model reads (prompt plus generated tokens), or ``None`` when unknown."""
        return None

    def supports_sample_seeds(self) -> bool:
        """Whether ``complete`` takes ``sample_seeds``: one seed per sample (``sample_seeds[i][j]`` for sample
        ``j`` of prompt ``i``), each sample then a function of its prompt, its seed and the sampling settings
        alone, whatever else shares the call. Monte Carlo annotation uses it to make a step's rollouts, and so
        its label, independent of how the work is batched."""
        return False

    @staticmethod
    def checked_sample_seeds(prompts: Sequence[str], n: int, sample_seeds) -> list[list[int]] | None:
        """``sample_seeds`` checked against ``prompts`` and ``n``, each reduced into [0, 2**63)."""
        if sample_seeds is None:
            return None
        if len(sample_seeds) != len(prompts) or any(len(seeds) != n for seeds in sample_seeds):
            raise ValueError(f"sample_seeds must hold {n} seeds for each of the {len(prompts)} prompts")
        return [[int(seed) % 2**63 for seed in seeds] for seeds in sample_seeds]

    def close(self) -> None:
        """Release what the backend holds (a vLLM engine's GPU memory) before another model loads; idempotent.

        The pipeline calls it at the end of every stage that generates, so a stage's engine never shares the
        GPU with the reward models or the next stage's engine."""

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        """Each text's length in the model's tokens, or ``None`` when this backend cannot tell."""
        return None

    @staticmethod
    def checked_stop(n: int, stop: Sequence[str] | None) -> list[str]:
        """The request checks every backend shares: ``n >= 1``; returns the non-empty stop strings."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        return [s for s in (stop or []) if s]


def accepted_settings(factory: Callable, **settings: Any) -> dict[str, Any]:
    """The subset of ``settings`` whose names ``factory`` takes (all of them if it takes ``**kwargs``).

    Pipelines hold one device and batch size for every backend; a remote backend has neither, and is not
    handed them. ``None`` values are left out too, so a backend's own default applies.
    """
    given = {k: v for k, v in settings.items() if v is not None}
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C callable: pass everything, let it refuse
        return given
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return given
    return {k: v for k, v in given.items() if k in parameters}


class Estimator(ABC):
    """Turns the verdicts of the rollouts from one step into that step's label."""

    name: ClassVar[str] = ""

    @abstractmethod
    def label(self, verdicts: Sequence[bool]) -> StepLabel:
        """The label of a step whose rollouts reached the gold answer where ``verdicts`` is True."""


class Scorer(ABC):
    """A reward model: one score in [0, 1] per step of each solution (a PRM; an ORM scores only the last).

    ``score`` takes questions and their solutions as lists of steps, so scorers never depend on a domain's
    text format. Register a loader ``loader(path, manifest=None, **options) -> Scorer`` with the
    ``register_scorers`` hook; ``verikit.scorer(path)`` picks it by the ``kind`` in the model folder's
    ``verikit_rm.json`` (``prm``, a tag-head PRM, when there is none, ``remote`` for an ``http(s)://`` address).
    """

    name: str = ""
    #: Tokens the model has read so far (a running total for throughput reports; stays 0 where the scorer cannot
    #: tell, e.g. a server)
    scored_tokens: int = 0

    @abstractmethod
    def score(self, questions: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        """Per-step scores, ``result[i][k]`` for step k of solution i (each solution has at least one step)."""

    def score_solutions(
        self, questions: Sequence[str], steps: Sequence[Sequence[str]], agg: str = "min"
    ) -> list[float]:
        """One score per solution: its step scores aggregated (``min``, the paper's choice, by default)."""
        from verikit.metrics import aggregate

        return [aggregate(scores, agg) for scores in self.score(questions, steps)]


@dataclass(frozen=True)
class RewardModelKind:
    """A kind of reward model: how it is read, and (if verikit can make one) how it is trained.

    Registered by name with ``register_scorers``; the ``kind`` a model folder's ``verikit_rm.json`` names selects
    it. ``load(path, manifest=None, **options) -> Scorer``. ``train(settings, base, examples, out, *, labels,
    domain, progress, callbacks) -> summary`` fits one on an :class:`~verikit.rm.data.ExampleSet` (``None``: read
    only, like a server); ``settings`` is the pydantic model of its training settings (what a recipe's
    ``reward_models[*].training`` and the CLI accept); ``targets`` which examples it learns from (``prm``: one
    target per step, ``orm``: the final answer's correctness at the last step); ``aggregation`` the solution score it
    gives unless a recipe says otherwise (``None``: the recipe's, the paper's ``min``). A bare loader registered
    instead of a kind reads as a kind that cannot be trained (:func:`verikit.components.reward_model_kind`).
    """

    load: Callable[..., Scorer]
    train: Callable[..., dict] | None = None
    settings: Any = None
    targets: str = "prm"
    aggregation: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Probe:
    """A strategy's request for ``count`` more rollouts from the prefix ending at step ``step`` (0-based)."""

    step: int
    count: int


@dataclass(frozen=True)
class StrategyOptions:
    """What every annotation strategy is given besides the solution: the estimator that labels a step from its
    own rollouts, and how many rollouts an early-exit probe asks for per round."""

    estimator: Estimator
    round_size: int = 2


#: An annotation strategy run: ``verdicts = yield Probe(step, count)`` until it returns one label per step.
StrategyRun = Generator[Probe, list[bool], list[StepLabel]]

#: An annotation strategy: ``strategy(n_steps, n, final_verdict, options) -> StrategyRun``, registered with the
#: ``register_strategies`` hook. ``final_verdict`` is the solution's own correctness (None: no answer stated).
Strategy = Callable[[int, int, "bool | None", StrategyOptions], StrategyRun]
