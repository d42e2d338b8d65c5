"""Looking components up by name: one function per registry, each resolving through the plugin host.

The package's front door (``verikit.answer_checker`` …) re-exports these; modules inside verikit import them
from here, so that no submodule imports the package it lives in. Plugins load on the first lookup.
"""

from __future__ import annotations

from typing import Any

from verikit.domains import Domain
from verikit.interfaces import AnswerChecker, Completer, Estimator, Scorer, StepSplitter
from verikit.types import Problem


def lookup(kind: str, name: str) -> Any:
    """The registered target for ``name`` in the registry ``kind`` (``"answer_checkers"``, ``"strategies"`` …)."""
    from verikit.plugins import get_host

    return get_host().lookup(kind, name)


def names(kind: str) -> list[str]:
    """Every name registered in the registry ``kind``, sorted (the choices a CLI option offers)."""
    from verikit.plugins import get_host

    return get_host().registries[kind].names()


def answer_checker(name: str) -> AnswerChecker:
    """A new instance of the answer checker registered as ``name``."""
    return lookup("answer_checkers", name)()


def step_splitter(name: str) -> StepSplitter:
    """A new instance of the step splitter registered as ``name``."""
    return lookup("step_splitters", name)()


def completer(name: str, **kwargs: Any) -> Completer:
    """A completer backend, e.g. ``completer("transformers", model="path/or/hub-id")``."""
    return lookup("completers", name)(**kwargs)


def estimator(name: str, **kwargs: Any) -> Estimator:
    """An estimator, ``"hard"`` or ``"soft"`` (or any a plugin registers)."""
    return lookup("estimators", name)(**kwargs)


def strategy(name: str):
    """The annotation strategy registered as ``name``: ``strategy(n_steps, n, final_verdict, options)`` is a
    generator that yields :class:`~verikit.interfaces.Probe` requests and returns step labels."""
    return lookup("strategies", name)


def dataset(name: str):
    """The loader registered as ``name``: a callable ``(split=..., data_dir=None, limit=None) -> list[Problem]``.

    What it returns is checked row by row (:func:`validated_rows`), so a plugin's loader that builds a bad row is
    reported with the dataset, the plugin, the row and the field instead of a bare pydantic traceback."""
    from verikit.plugins import get_host

    loader = lookup("datasets", name)
    plugin = get_host().registries["datasets"].entry(name).plugin

    def load(**kwargs: Any) -> list[Problem]:
        from pydantic import ValidationError

        from verikit.errors import DataError

        where = f"dataset {name!r} (plugin {plugin})"
        try:
            rows = loader(**kwargs)
        except ValidationError as exc:  # the loader built a Problem itself and it did not validate
            raise DataError(_validation_message(exc), path=where, field=_validation_field(exc)) from None
        return validated_rows(rows, where)

    load.__doc__ = loader.__doc__
    return load


def validated_rows(rows: Any, where: str) -> list[Problem]:
    """``rows`` (Problems or mappings) as Problems; the first bad row is a :class:`~verikit.errors.DataError` naming
    ``where``, the 1-based row and the field."""
    from pydantic import ValidationError

    from verikit.errors import DataError

    if rows is None or isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise DataError(f"the loader returned {type(rows).__name__}, not a list of Problem rows", path=where)
    problems = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Problem):
            problems.append(row)
            continue
        try:
            if not isinstance(row, dict):
                got = type(row).__name__
                raise DataError(f"expected a Problem or a mapping, got {got}", path=f"{where}, row {number}")
            problems.append(Problem.model_validate(row))
        except ValidationError as exc:
            error = DataError(_validation_message(exc), path=f"{where}, row {number}", field=_validation_field(exc))
            error.line = number
            raise error from None
    return problems


def _validation_field(exc) -> str | None:
    errors = exc.errors()
    return ".".join(str(part) for part in errors[0]["loc"]) if errors and errors[0]["loc"] else None


def _validation_message(exc) -> str:
    errors = exc.errors()
    message = errors[0]["msg"].removeprefix("Value error, ") if errors else str(exc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{message}{more}"


def load_dataset(name: str, **kwargs: Any) -> list[Problem]:
    """Load the registered dataset ``name``: ``load_dataset("gsm8k", split="test", limit=10)``."""
    return dataset(name)(**kwargs)


def selector(name: str):
    """The answer selector registered as ``name``: ``selector(answers, scores) -> chosen index or None``."""
    return lookup("selectors", name)


def domain(name: str) -> Domain:
    """The :class:`Domain` record registered as ``name``."""
    return lookup("domains", name)


def load_scorer(path, **options: Any) -> Scorer:
    """A reward-model scorer for a model folder, hub id or ``http(s)://`` server: ``load_scorer(path).score(qs,
    steps)``.

    The loader is the one registered (``register_scorers``) under the ``kind`` that the folder's
    ``verikit_rm.json`` names — ``prm`` (a tag-head PRM) when there is none, ``remote`` for an address. ``options``
    (``batch_size``, ``device``, ``released_convention`` …) go to the loader where it takes them.
    """
    from verikit.errors import DataError
    from verikit.interfaces import accepted_settings
    from verikit.models import RM_MANIFEST, read_rm_manifest

    text = str(path)
    address = text.startswith(("http://", "https://"))
    manifest = None if address else read_rm_manifest(text)
    kind = "remote" if address else (manifest or {}).get("kind", "prm")
    if not isinstance(kind, str):
        raise DataError(f"'kind' must be a string, got {kind!r}", path=f"{text}/{RM_MANIFEST}", field="kind")
    loader = reward_model_kind(kind).load
    return loader(text, manifest=manifest, **accepted_settings(loader, **options))


def reward_model_kind(name: str):
    """The :class:`~verikit.interfaces.RewardModelKind` registered as ``name`` (``prm``, ``orm``, ``likelihood``,
    ``remote`` or a plugin's); a bare loader a plugin registered reads as a kind that cannot be trained."""
    from verikit.interfaces import RewardModelKind

    target = lookup("scorers", name)
    return target if isinstance(target, RewardModelKind) else RewardModelKind(load=target)
