"""verikit: process verification — Monte Carlo step annotation, process reward models, verification.

Public lookups resolve names through the plugin registries (plugins load on first use)::

    import verikit
    checker = verikit.answer_checker("gsm8k")
    checker.is_correct("... #### 18", "18")

``import verikit`` itself imports no domain plugin and no heavy library.
"""

from __future__ import annotations

from typing import Any

from verikit.domains import Domain
from verikit.errors import CallTimeout, DataError, PluginError, RegistryClashError, UnknownNameError, VerikitError
from verikit.interfaces import AnswerChecker, Completer, Estimator, StepSplitter
from verikit.types import LabelledSolution, Problem, Solution, StepLabel

__version__ = "0.1.0"

__all__ = [
    "AnswerChecker", "CallTimeout", "Completer", "DataError", "Domain", "Estimator", "LabelledSolution",
    "PluginError", "Problem", "RegistryClashError", "Solution", "StepLabel", "StepSplitter",
    "UnknownNameError", "VerikitError", "annotate", "answer_checker", "completer", "dataset", "domain", "estimator",
    "load_annotations", "load_dataset", "scorer", "selector", "step_splitter",
]


def _lookup(key: str, name: str) -> Any:
    from verikit.plugins import get_host

    return get_host().lookup(key, name)


def answer_checker(name: str) -> AnswerChecker:
    """A new instance of the answer checker registered as ``name``."""
    return _lookup("answer_checkers", name)()


def step_splitter(name: str) -> StepSplitter:
    """A new instance of the step splitter registered as ``name``."""
    return _lookup("step_splitters", name)()


def completer(name: str, **kwargs: Any) -> Completer:
    """A completer backend, e.g. ``verikit.completer("transformers", model="path/or/hub-id")``."""
    return _lookup("completers", name)(**kwargs)


def estimator(name: str, **kwargs: Any) -> Estimator:
    """An estimator, ``"hard"`` or ``"soft"`` (or any a plugin registers)."""
    return _lookup("estimators", name)(**kwargs)


def dataset(name: str):
    """The loader registered as ``name``: a callable ``(split=..., data_dir=None, limit=None) -> list[Problem]``."""
    return _lookup("datasets", name)


def load_dataset(name: str, **kwargs: Any) -> list[Problem]:
    """Load the registered dataset ``name``: ``verikit.load_dataset("gsm8k", split="test", limit=10)``."""
    return dataset(name)(**kwargs)


def selector(name: str):
    """The answer selector registered as ``name``: ``selector(answers, scores) -> chosen index or None``."""
    return _lookup("selectors", name)


def domain(name: str) -> Domain:
    """The :class:`Domain` record registered as ``name``."""
    return _lookup("domains", name)


def annotate(config, out, **kwargs):
    """Monte Carlo annotation of ``config`` (an :class:`~verikit.annotation.config.AnnotationConfig` or a dict)
    into the folder ``out``; resumable. Returns the run's summary."""
    from verikit.annotation.config import AnnotationConfig
    from verikit.annotation.driver import annotate as run

    if isinstance(config, dict):
        config = AnnotationConfig(**config)
    return run(config, out, **kwargs)


def load_annotations(directory):
    """An annotation folder as a ``datasets.Dataset`` (one row per labelled solution)."""
    from verikit.annotation.storage import load_annotations as load

    return load(directory)


def scorer(path, **kwargs):
    """A PRM/ORM scorer for a model folder or hub id: ``scorer(path).score(questions, steps)``."""
    from verikit.rm.scorer import load_scorer

    return load_scorer(path, **kwargs)
