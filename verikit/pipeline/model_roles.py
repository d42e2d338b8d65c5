"""The models of a recipe: checked before a run starts, and provided (trained, fetched) by plugins when asked.

A model value is a folder, a hub id, or ``provider:spec``. A provider is what a plugin registers with
``register_model_providers``: a callable ``provide(spec, *, check=False)`` that returns the model's folder
(training or fetching it when needed) or, with ``check=True``, only raises ``ValueError`` for a spec it
cannot serve. The arith plugin provides its tiny generators this way (``arith:arith-easy/policy``).
"""

from __future__ import annotations

from pathlib import Path

from verikit.errors import DataError, UnknownNameError
from verikit.models import ModelNotFound, require_model


def provider_and_spec(value: str) -> tuple[str, str] | None:
    """``("arith", "arith-easy/policy")`` for ``arith:arith-easy/policy``; None for a folder, hub id or address."""
    if "://" in value or value.startswith(("/", ".", "~")):
        return None
    name, sep, spec = value.partition(":")
    return (name, spec) if sep and name and "/" not in name else None


def _hub_model_reachable(value: str) -> str | None:
    """None when the hub id's config can be loaded (from the cache or the hub); else why not, in one line."""
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(value)
    except Exception as exc:  # any failure to resolve: offline, no such repository, gated
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


_checked_hub_ids: dict[str, str | None] = {}


def check_model(value: str, path: str | Path, field: str) -> None:
    """Raise a DataError naming ``field`` unless ``value`` is a provided model, a model folder or a loadable hub id."""
    provided = provider_and_spec(value)
    if provided is not None:
        from verikit import components

        name, spec = provided
        try:
            provider = components.lookup("model_providers", name)
        except UnknownNameError as exc:
            raise DataError(str(exc), path=path, field=field) from None
        try:
            provider(spec, check=True)
        except ValueError as exc:
            raise DataError(f"model provider {name!r}: {exc}", path=path, field=field) from None
        return
    try:
        source = require_model(value)
    except ModelNotFound as exc:
        raise DataError(str(exc), path=path, field=field) from None
    if Path(source).expanduser().is_dir():
        return
    if source not in _checked_hub_ids:  # a hub id: can its config be loaded (cache or network)?
        _checked_hub_ids[source] = _hub_model_reachable(source)
    if _checked_hub_ids[source] is not None:
        raise DataError(f"hub model {source!r} cannot be loaded: {_checked_hub_ids[source]}", path=path, field=field)


def provide(value: str) -> str:
    """The folder or hub id to load for ``value``: a provider's model is made (or found in its cache) here."""
    provided = provider_and_spec(value)
    if provided is None:
        path = Path(value).expanduser()
        return str(path.resolve()) if path.exists() else value
    from verikit import components

    name, spec = provided
    return str(Path(components.lookup("model_providers", name)(spec)).resolve())
