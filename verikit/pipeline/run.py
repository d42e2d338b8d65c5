"""``verikit reproduce``: run a recipe's stages in order, each from the files the ones before it left.

Everything is checked before anything is written: the recipe's shape, every registered name it uses, every file,
dataset and model (a folder that exists, a provider that can serve it, a hub id whose config loads), the stages asked
for. Which stages exist, which a recipe has and in which order they run come from the stage registry
(:mod:`verikit.pipeline.stage`); each stage says what it reused and why.
"""

from __future__ import annotations

import time
from pathlib import Path

from verikit.pipeline.checks import check_recipe
from verikit.pipeline.recipe import Recipe, load_recipe
from verikit.pipeline.stage import registered, wanted_stages
from verikit.pipeline.workspace import Workspace, write_json_atomically


def prepare(
    source, out=None, stages: list[str] | None = None, smoke: bool = False, overrides=(), check_models: bool = True
) -> tuple[Recipe, Path, list[str], Path]:
    """Load and check everything; write nothing. Returns (recipe, recipe file, stages, output folder)."""
    recipe, path = load_recipe(source, overrides)
    check_recipe(recipe, path, models=check_models and not smoke, data=not smoke)
    order = wanted_stages(recipe, stages, path)
    folder = Path(out) if out is not None else Path("out/reproduce") / (recipe.name + ("-smoke" if smoke else ""))
    return recipe, path, order, folder


def reproduce(
    source, out=None, stages: list[str] | None = None, smoke: bool = False, overrides=(), check_models: bool = True
) -> dict:
    """Run ``stages`` (default: every stage the recipe has) of the recipe ``source`` into ``out``; returns the
    report."""
    from verikit.pipeline.stages.report import run_report

    recipe, path, order, out = prepare(source, out, stages, smoke, overrides, check_models)
    out.mkdir(parents=True, exist_ok=True)
    if smoke:
        from verikit.pipeline.smoke import smoke_recipe

        recipe = smoke_recipe(recipe, out)
    write_json_atomically(out / "recipe.json", {"source": str(path), "recipe": recipe.model_dump()})
    ws = Workspace(recipe, out)
    stages = registered()
    results: dict = {}
    seconds: dict = {}
    for name in order:
        if name == "report":
            continue
        print(f"\n== {recipe.name}: {name}", flush=True)
        started = time.perf_counter()
        results[name] = stages[name].run(ws)
        seconds[name] = round(time.perf_counter() - started, 1)
        write_json_atomically(out / "stages" / f"{name}.json", {"result": results[name], "seconds": seconds[name]})
        print(f"   {name} done ({seconds[name]:.0f}s)", flush=True)
    return run_report(ws, results, seconds)
