"""The models stage (every run's first): each role of the recipe resolved to a folder or hub id — a plugin's
provided model is made (or found in its cache) here, ``finetuned:NAME`` is this run's fine-tuned model."""

from __future__ import annotations

from verikit.pipeline.stage import Stage
from verikit.pipeline.workspace import Workspace, write_json_atomically


def run_models(ws: Workspace) -> dict:
    roles = ws.recipe.models
    models = {"generators": [ws.resolve(m) for m in roles.generators]}
    models["generator"] = models["generators"][0]
    for role in ("completer", "reward_model_base", "policy"):
        models[role] = ws.resolve(getattr(roles, role))
    ws.models = models
    write_json_atomically(ws.out / "models.json", models)
    return models


STAGE = Stage(run=run_models, always=True, description="resolve every model role (providers make theirs)")
