"""Command-line options generated from pydantic configs, so no setting is typed twice.

``@config_options(AnnotationConfig)`` adds one ``--option`` per field of the model to a typer command —
its type, default and help come from the field — and hands the command one validated config instead. A
bad value is a one-line error that names the option as the user typed it.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, Optional

import typer
from pydantic import BaseModel, ValidationError

from verikit.errors import VerikitError

_PREFIX = "_config_"


def _is_mapping(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    if origin in (typing.Union, types.UnionType):
        return any(_is_mapping(a) for a in typing.get_args(annotation) if a is not type(None))
    return origin is dict


def _cli_type(annotation: Any) -> Any:
    """The type typer parses for a field: ``X | None`` → ``Optional[X]``, a ``Literal`` of strings → ``str`` (the
    model's own validation names the allowed values), a mapping → ``str`` read as YAML here (``--backend-options
    '{dtype: bfloat16}'``), so no option needs a typer that parses mappings itself."""
    if _is_mapping(annotation):
        return str
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return Optional[_cli_type(members[0])]
    if origin is typing.Literal:
        return type(typing.get_args(annotation)[0])
    return annotation


def flag(field: str, rename: dict[str, str] | None = None) -> str:
    """The ``--option`` of ``field``."""
    return "--" + (rename or {}).get(field, field).replace("_", "-")


def build_config(model: type[BaseModel], values: dict[str, Any], rename: dict[str, str] | None = None) -> BaseModel:
    """``model(**values)`` (``None`` values left to the model's defaults); a validation error becomes one line per
    bad option, named as the command line spells it."""
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            where = flag(field, rename) if field in model.model_fields else f"({field})"
            message = error["msg"].removeprefix("Value error, ")
            lines.append(
                f"{where}: {message}"
                + (f" (got {error['input']!r})" if not isinstance(error.get("input"), dict) else "")
            )
        raise VerikitError("; ".join(lines)) from None


def _mapping(text: str, option: str) -> dict:
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise VerikitError(f"{option}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(value, dict):
        raise VerikitError(f"{option}: expected a mapping such as '{{key: value}}', got {text!r}")
    return value


def config_options(
    model: type[BaseModel], *, rename: dict[str, str] | None = None, exclude: Iterable[str] = (), param: str = "config"
) -> Callable:
    """Decorate a typer command whose parameter ``param`` is a ``model``: each field becomes an option."""
    excluded = set(exclude)
    fields = {name: info for name, info in model.model_fields.items() if name not in excluded}

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command)
        hints = typing.get_type_hints(command)  # real types: the wrapper lives in another module's namespace
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
            if p.name != param
        ]
        added = []
        for name, info in fields.items():
            default = ... if info.is_required() else None  # None: the model's default applies (shown in the help)
            shown = None if info.is_required() else info.get_default(call_default_factory=True)
            help_text = (info.description or "") + ("" if shown is None or shown == {} else f" (default: {shown})")
            if _is_mapping(info.annotation):
                help_text += " A YAML mapping: '{key: value}'."
            annotation = _cli_type(info.annotation)
            if default is None and typing.get_origin(annotation) is not typing.Union:
                annotation = Optional[annotation]
            if _cli_type(info.annotation) is bool:  # a switch: --x/--no-x
                names = [f"{flag(name, rename)}/--no-{flag(name, rename)[2:]}"]
            else:
                names = [flag(name, rename)]
            option = typer.Option(default, *names, help=help_text.strip(), show_default=False)
            added.append(
                inspect.Parameter(
                    f"{_PREFIX}{param}_{name}", inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
                )
            )

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            values = {name: kwargs.pop(f"{_PREFIX}{param}_{name}") for name in fields}
            for name, info in fields.items():
                if _is_mapping(info.annotation) and values[name] is not None:
                    values[name] = _mapping(values[name], flag(name, rename))
            return command(**kwargs, **{param: build_config(model, values, rename)})

        wrapper.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in own + added}
        del wrapper.__wrapped__  # typer must read the new signature, not the command's
        return wrapper

    return decorate
