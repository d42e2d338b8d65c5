"""``--smoke``: a recipe shrunk to a CPU plumbing check on a few real rows, every model one tiny local LM.

Every stage the recipe has runs, on the recipe's own datasets and prompt template, with the recipe's options where
the CPU can run them. What changes: all models become one small randomly initialised causal LM (a byte-level BPE
tokenizer trained on the datasets' text), the transformers backend, and each stage's section is shrunk by the
stage's own ``smoke`` function (a few problems, 2 rollouts, short generations, one RL step …). It checks that the
recipe runs end to end on real data, not accuracy.
"""

from __future__ import annotations

from pathlib import Path

from verikit import components
from verikit.pipeline.recipe import Recipe


def tiny_model_for(recipe: Recipe, out: Path) -> str:
    from verikit.pipeline.checks import dataset_refs
    from verikit.tiny_models import build_tiny_causal_lm

    folder = out / "smoke-model"
    if (folder / "config.json").exists():
        return str(folder.resolve())
    texts = []
    for _, ref in dataset_refs(recipe):
        for problem in components.load_dataset(ref.name, split=ref.split, limit=40):
            texts.append(f"{problem.question} {problem.gold_solution or ''} {problem.gold_answer}")
    if recipe.prompt_template:
        texts.append(recipe.prompt_template.replace("{question}", ""))
    return str(Path(build_tiny_causal_lm(folder, texts)).resolve())


def smoke_recipe(recipe: Recipe, out: Path) -> Recipe:
    from verikit.pipeline.stage import registered

    model = tiny_model_for(recipe, out)

    def tiny(value: str) -> str:  # a finetuned:NAME model stays: the finetune stage makes it from the tiny LM
        return value if value.startswith("finetuned:") else model

    roles = {role: tiny(getattr(recipe.models, role)) for role in ("completer", "reward_model_base", "policy")}
    generator = recipe.models.generator
    roles["generator"] = tiny(generator) if isinstance(generator, str) else [tiny(g) for g in generator]
    update: dict = {
        "name": recipe.name + "-smoke",
        "backend": recipe.backend.model_copy(update={"name": "transformers", "options": {}}),
        "models": recipe.models.model_copy(update=roles),
    }
    shrunk = recipe.model_copy(update=update)
    for stage in registered().values():
        if stage.smoke is not None and stage.section is not None and shrunk.section(stage.section):
            shrunk = shrunk.model_copy(update=stage.smoke(shrunk, model, out))
    if shrunk.select is not None:
        kept = {spec.name for spec in shrunk.reward_models}
        methods = (
            None
            if shrunk.select.methods is None
            else {
                row: m
                for row, m in shrunk.select.methods.items()
                if m.reward_model is None
                or all(
                    r in kept
                    for r in ([m.reward_model] if isinstance(m.reward_model, str) else m.reward_model.values())
                )
            }
        )
        shrunk = shrunk.model_copy(
            update={"select": shrunk.select.model_copy(update={"repeats": 2, "methods": methods})}
        )
    return shrunk
