"""verikit: process verification — Monte Carlo step annotation, process reward models, verification.

Public lookups resolve names through the plugin registries (plugins load on first use)::

    import verikit
    checker = verikit.answer_checker("gsm8k")
    checker.is_correct("... #### 18", "18")

``import verikit`` itself imports no domain plugin and no heavy library.
"""

from __future__ import annotations

from verikit.components import (
    answer_checker,
    completer,
    dataset,
    domain,
    estimator,
    load_dataset,
    selector,
    step_splitter,
    strategy,
)
from verikit.components import load_scorer as scorer
from verikit.domains import Domain
from verikit.errors import CallTimeout, DataError, PluginError, RegistryClashError, UnknownNameError, VerikitError
from verikit.interfaces import AnswerChecker, Completer, Completions, Estimator, Scorer, StepSplitter
from verikit.types import Problem, StepLabel

__version__ = "0.1.0"

__all__ = [
    "AnswerChecker",
    "CallTimeout",
    "Completer",
    "Completions",
    "DataError",
    "Domain",
    "Estimator",
    "PluginError",
    "Problem",
    "RegistryClashError",
    "Scorer",
    "StepLabel",
    "StepSplitter",
    "UnknownNameError",
    "VerikitError",
    "annotate",
    "answer_checker",
    "completer",
    "dataset",
    "domain",
    "estimator",
    "load_annotations",
    "load_dataset",
    "scorer",
    "selector",
    "step_splitter",
    "strategy",
]


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
