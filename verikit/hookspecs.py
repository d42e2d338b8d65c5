"""The hooks a verikit plugin can implement.

Every hook receives a ``register`` callable: ``register(name, target, description="")`` where
``target`` is the implementation or a lazily imported ``"module:attribute"`` string. Each is documented
with an example in ``docs/plugins.md`` (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("verikit")
hookimpl = pluggy.HookimplMarker("verikit")

Register = Callable[..., None]


@hookspec
def register_answer_checkers(register: Register) -> None:
    """Register :class:`~verikit.interfaces.AnswerChecker` subclasses (or factories returning one).

    ``verikit.answer_checker(name)`` calls the target with no arguments.
    """


@hookspec
def register_step_splitters(register: Register) -> None:
    """Register :class:`~verikit.interfaces.StepSplitter` subclasses (or zero-argument factories)."""


@hookspec
def register_completers(register: Register) -> None:
    """Register :class:`~verikit.interfaces.Completer` factories; ``verikit.completer(name, **kw)`` passes ``kw``."""


@hookspec
def register_estimators(register: Register) -> None:
    """Register :class:`~verikit.interfaces.Estimator` factories; ``verikit.estimator(name, **kw)`` passes ``kw``."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register dataset loaders: callables ``(split=..., data_dir=None, limit=None) -> list[Problem]``."""


@hookspec
def register_domains(register: Register) -> None:
    """Register domains: :class:`verikit.domains.Domain` records naming a checker, a splitter and datasets."""


@hookspec
def register_selectors(register: Register) -> None:
    """Register answer selectors: ``selector(answers, scores) -> index of the chosen sample or None``.

    ``answers`` are checker-normalised answers (``None`` for a sample without one), ``scores`` one
    reward-model score per sample or ``None``; best-of-N curves and ``verikit.selector(name)`` use them.
    """


@hookspec
def register_strategies(register: Register) -> None:
    """Register annotation strategies: ``strategy(n_steps, n, final_verdict, options)`` generators that yield
    :class:`~verikit.interfaces.Probe` requests and return one :class:`~verikit.types.StepLabel` per step
    (the contract is :data:`verikit.interfaces.Strategy`). ``verikit annotate --strategy NAME`` runs one.
    """


@hookspec
def register_scorers(register: Register) -> None:
    """Register reward-model loaders ``loader(path, manifest=None, **options) -> Scorer`` by kind.

    ``verikit.scorer(path)`` calls the loader named by ``kind`` in the folder's ``verikit_rm.json``
    (``prm``, a tag-head PRM, when the folder has none, ``remote`` for an ``http(s)://`` address); ``options`` are the
    caller's (``batch_size``, ``device`` …), passed only where the loader takes them.
    """


@hookspec
def register_recipes(register: Register) -> None:
    """Register pipeline recipes by name: the target is the recipe file's :class:`pathlib.Path` (YAML).

    ``verikit reproduce --recipe NAME`` runs one; ``verikit demo`` is the arith plugin's ``arith-easy`` recipe.
    """


@hookspec
def register_model_providers(register: Register) -> None:
    """Register model providers: ``provide(spec, *, check=False) -> folder`` makes (trains, fetches) or finds a model.

    A recipe names a provided model as ``NAME:spec`` (``arith:arith-easy/policy``); with ``check=True`` the
    provider only raises ``ValueError`` for a spec it cannot serve (recipes are checked before a run starts).
    """


@hookspec
def register_stages(register: Register) -> None:
    """Register pipeline stages: :class:`verikit.pipeline.stage.Stage` records (or ``"module:STAGE"`` strings).

    A stage runs in ``verikit reproduce`` when the recipe has its section, after the stages its ``after`` names;
    a plugin's stage reads its own top-level recipe section, validated by the stage's ``settings`` model.
    """


@hookspec
def register_rl_algorithms(register: Register) -> None:
    """Register RL algorithms: :class:`verikit.rl.algorithms.RLAlgorithm` records (or ``"module:ALGORITHM"``).

    ``verikit rl --algo NAME`` and a recipe's ``rl.methods.*.algo`` run one: its ``run(config, out, context)`` trains
    the policy into ``out/model`` and returns a summary.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``verikit`` CLI; ``cli`` is the root ``typer.Typer`` application."""
