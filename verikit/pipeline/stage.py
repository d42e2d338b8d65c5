"""What a pipeline stage is, and the order a recipe's stages run in: everything derives from the ``stages`` registry.

A stage is one module that defines a :class:`Stage` and one registration (``register_stages``)::

    STAGE = Stage(run=run_lengths, section="lengths", settings=LengthSettings, after=("sample",),
                  description="a histogram of the sampled solutions' lengths")

``run(ws)`` does the work from the files earlier stages left in the workspace and returns its result (kept in
``OUT/stages/<name>.json``). A stage is part of a run when the recipe has its ``section`` (``present`` overrides
that), and runs after the stages named in ``after`` that the run has. A plugin's stage reads its own top-level
section of the recipe, validated by ``settings``; ``smoke`` shrinks that section for ``--smoke``; ``report``
turns the stage's result into the report's JSON and text. ``verikit reproduce``, ``--smoke``, the report,
``verikit stages`` and the docs all read this registry; none of them lists stages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from verikit.errors import DataError, UnknownNameError


@dataclass(frozen=True)
class Stage:
    """One stage of a pipeline run (see the module docstring)."""

    run: Callable[[Any], dict]
    section: str | None = None
    present: Callable[[Any], bool] | None = None
    after: tuple[str, ...] = ()
    settings: Any = None
    smoke: Callable[[Any, Any], Any] | None = None
    report: Callable[[Any, dict], tuple[dict, list[str]]] | None = None
    description: str = ""
    #: stages every run has, first and last
    always: bool = field(default=False)

    def in_recipe(self, recipe) -> bool:
        if self.always:
            return True
        if self.present is not None:
            return bool(self.present(recipe))
        return self.section is not None and recipe.section(self.section) is not None


def registered() -> dict[str, Stage]:
    """Every registered stage by name, in registration order (the core's first)."""
    from verikit.plugins import get_host

    registry = get_host().registries["stages"]
    stages = {}
    for entry in registry.entries_in_order():
        stage = entry.load()
        if not isinstance(stage, Stage):
            raise DataError(
                f"plugin {entry.plugin!r} registered stage {entry.name!r} as {type(stage).__name__}, not a "
                "verikit.pipeline.stage.Stage"
            )
        stages[entry.name] = stage
    return stages


def lookup(name: str) -> Stage:
    from verikit import components

    return components.lookup("stages", name)


def ordered(names: list[str], stages: dict[str, Stage]) -> list[str]:
    """``names`` in an order where every stage comes after the stages of its ``after`` that are among them (ties keep
    registration order). A cycle among them is an error naming its stages."""
    wanted = [name for name in stages if name in names]
    placed: list[str] = []
    while len(placed) < len(wanted):
        ready = [n for n in wanted if n not in placed and all(d in placed or d not in wanted for d in stages[n].after)]
        if not ready:
            raise DataError(
                f"the stages {', '.join(n for n in wanted if n not in placed)} wait for each other (their "
                "'after' lists form a cycle)"
            )
        placed.append(ready[0])
    return placed


def recipe_stages(recipe) -> list[str]:
    """The stages this recipe has, in the order they run."""
    stages = registered()
    return ordered([name for name, stage in stages.items() if stage.in_recipe(recipe)], stages)


def wanted_stages(recipe, requested: list[str] | None, path) -> list[str]:
    """The stages to run: every stage the recipe has, or those ``requested`` (with the stages every run has)."""
    present = recipe_stages(recipe)
    if not requested or requested == ["all"]:
        return present
    stages = registered()
    for stage in requested:
        if stage not in stages:
            try:
                lookup(stage)  # the registry's error: closest names and the registered ones
            except UnknownNameError as exc:
                raise DataError(str(exc), path=path, field="--stage") from None
        if stage not in present:
            raise DataError(
                f"the recipe has no {stage!r} stage (it has: {', '.join(present)})", path=path, field="--stage"
            )
    return [name for name in present if name in requested or stages[name].always]
