"""The recipe format's reference, generated from its schema (:class:`verikit.pipeline.recipe.Recipe`), so the
documentation cannot drift from what the loader accepts.

    verikit recipes --reference > docs/recipe-reference.md

Every section is one pydantic model: each field with its type, default and description, nested models as sections
of their own. ``reward_models[].training`` is a mapping whose schema belongs to the reward-model kind; the kinds
verikit ships are listed after the recipe's own sections.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

HEADER = (
    "# Recipe reference\n\n"
    "Generated from the schema by `verikit recipes --reference` (tests/test_recipe_reference.py fails when this\n"
    "file and the schema disagree). How recipes are run and found: [reproducing.md](reproducing.md#recipes); a\n"
    "plugin's own stage adds a top-level section of its own ([plugins.md](plugins.md)).\n"
)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type):
        return annotation.__name__
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(_type_name(a) for a in args)}]" if args else name
    return str(annotation).replace("typing.", "")


def _default(info) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()
        return "see below" if isinstance(value, BaseModel) else f"`{value!r}`"
    return "" if info.default is PydanticUndefined else f"`{info.default!r}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _section(title: str, model: type[BaseModel]) -> str:
    doc = " ".join((model.__doc__ or "").split())
    lines = [f"## `{title}`", ""]
    if doc:
        lines += [doc, ""]
    lines += ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        lines.append(
            f"| `{name}` | {_cell(_type_name(info.annotation))} | {_cell(_default(info))} | "
            f"{_cell(info.description or '')} |"
        )
    return "\n".join(lines) + "\n"


def recipe_reference() -> str:
    """The whole reference as Markdown."""
    from verikit.pipeline.recipe import Recipe
    from verikit.rm.config import LikelihoodSettings, PRMTrainingSettings

    sections: list[str] = [HEADER]
    seen: set[type[BaseModel]] = set()

    def walk(title: str, model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        sections.append(_section(title, model))
        for name, info in model.model_fields.items():
            for nested in _models_in(info.annotation):
                suffix = "[]" if typing.get_origin(info.annotation) is list else ""
                walk(f"{title}.{name}{suffix}" if title != "recipe" else f"{name}{suffix}", nested)

    walk("recipe", Recipe)
    sections.append(
        "## Reward-model training settings (`reward_models[].training`)\n\n"
        "A mapping read by the reward model's kind: `prm` and `orm` take the first table, `likelihood` the second, a\n"
        "plugin's kind its own settings. An unknown key is an error that names it.\n"
    )
    walk("reward_models[].training (prm, orm)", PRMTrainingSettings)
    walk("reward_models[].training (likelihood)", LikelihoodSettings)
    return "\n".join(sections)
