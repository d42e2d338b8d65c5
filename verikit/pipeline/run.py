"""``verikit reproduce``: run a recipe's stages in order, each from the files the ones before it left.

Everything is checked before anything is written: the recipe's shape, every registered name it uses, every
model (a folder that exists, a provider that can serve it, a hub id whose config loads), the stages asked for.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from verikit.errors import DataError
from verikit.pipeline.recipe import STAGES, Recipe, check_names, load_recipe
from verikit.pipeline.workspace import Workspace, write_json_atomically


def _models_stage(ws: Workspace) -> dict:
    from verikit.pipeline.models import provide

    models = {}
    for role in ("generator", "completer", "reward_model_base", "policy"):
        value = getattr(ws.recipe.models, role)
        models[role] = provide(value)
    ws.models = models
    write_json_atomically(ws.out / "models.json", models)
    return models


def _stage_functions() -> dict:
    from verikit.pipeline.annotating import run_annotate
    from verikit.pipeline.reinforcement import run_rl_stage
    from verikit.pipeline.sampling import run_sample
    from verikit.pipeline.scoring import run_score
    from verikit.pipeline.selection import run_select
    from verikit.pipeline.training import run_train

    return {"models": _models_stage, "annotate": run_annotate, "train": run_train, "sample": run_sample,
            "score": run_score, "select": run_select, "rl": run_rl_stage}


def wanted_stages(recipe: Recipe, requested: list[str] | None, path) -> list[str]:
    present = recipe.stages()
    if not requested or requested == ["all"]:
        return present
    for stage in requested:
        if stage not in STAGES:
            raise DataError(f"unknown stage {stage!r} (stages: {', '.join(STAGES)})", path=path, field="--stage")
        if stage not in present:
            raise DataError(f"the recipe has no {stage!r} stage (it has: {', '.join(present)})", path=path, field="--stage")
    return ["models", *[s for s in present if s in requested and s != "models"]]


def prepare(source, out=None, stages: list[str] | None = None, smoke: bool = False, overrides=(),
            check_models: bool = True) -> tuple[Recipe, Path, list[str], Path]:
    """Load and check everything; write nothing. Returns (recipe, recipe file, stages, output folder)."""
    recipe, path = load_recipe(source, overrides)
    check_names(recipe, path, check_models=check_models and not smoke)
    order = wanted_stages(recipe, stages, path)
    folder = Path(out) if out is not None else Path("out/reproduce") / (recipe.name + ("-smoke" if smoke else ""))
    return recipe, path, order, folder


def reproduce(source, out=None, stages: list[str] | None = None, smoke: bool = False, overrides=(),
              check_models: bool = True) -> dict:
    """Run ``stages`` (default: every stage the recipe has) of the recipe ``source`` into ``out``; returns the report."""
    recipe, path, order, out = prepare(source, out, stages, smoke, overrides, check_models)
    out.mkdir(parents=True, exist_ok=True)
    if smoke:
        from verikit.pipeline.smoke import smoke_recipe

        recipe = smoke_recipe(recipe, out)
    write_json_atomically(out / "recipe.json", {"source": str(path), "recipe": recipe.model_dump()})
    ws = Workspace(recipe, out)
    functions = _stage_functions()
    results: dict = {}
    seconds: dict = {}
    for stage in order:
        if stage == "report":
            continue
        print(f"\n== {recipe.name}: {stage}", flush=True)
        started = time.perf_counter()
        results[stage] = functions[stage](ws)
        seconds[stage] = round(time.perf_counter() - started, 1)
        write_json_atomically(out / "stages" / f"{stage}.json", {"result": results[stage], "seconds": seconds[stage]})
        print(f"   {stage} done ({seconds[stage]:.0f}s)", flush=True)
    from verikit.pipeline.report import build_report

    for stage in ("select", "rl"):  # a table not recomputed this time is read from the last run's files
        saved = out / "stages" / f"{stage}.json"
        if stage not in results and stage in recipe.stages() and saved.exists():
            results[stage] = json.loads(saved.read_text())["result"]
    report, text = build_report(recipe, results)
    report["stages"] = {stage: {"seconds": seconds.get(stage), "result": results.get(stage)} for stage in order if stage != "report"}
    write_json_atomically(out / "report.json", report)
    written = [out / "report.json"]
    if recipe.sample is not None and (out / "select").exists():
        from verikit.pipeline.html_report import write_html_report

        written.append(write_html_report(out))
    print("\n" + text + f"\n\nwrote {', '.join(map(str, written))}", flush=True)
    return report
