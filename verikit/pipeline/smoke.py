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


def local_stand_ins(recipe: Recipe) -> Recipe:
    """The recipe with every dataset that cannot be read here (on the hub only, as MetaMathQA, and no local copy)
    replaced by one of its datasets that can: a smoke run checks plumbing, and says which rows stood in."""
    from verikit.errors import DataError
    from verikit.pipeline.checks import dataset_refs

    def loads(name: str, split: str) -> bool:
        try:
            return bool(components.load_dataset(name, split=split, limit=1))
        except DataError:
            return False

    refs = [ref for _, ref in dataset_refs(recipe)]
    rft = list(recipe.rl.settings.rft.datasets or []) if recipe.rl else []
    missing = {r.name for r in refs if not loads(r.name, r.split)} | {n for n in rft if not loads(n, "train")}
    readable = [r for r in refs if r.name not in missing]
    stand_in = next((r for r in readable if r.split == "train"), readable[0] if readable else None)
    if not missing or stand_in is None:
        return recipe  # nothing to replace, or nothing to replace it with (the run then names the dataset)
    print(
        f"smoke: {', '.join(sorted(missing))} cannot be read here (no local copy, no hub); "
        f"{stand_in.key} rows stand in for it",
        flush=True,
    )

    def swap(items):
        return [stand_in.model_copy(update={"limit": r.limit}) if r.name in missing else r for r in items]

    update: dict = {}
    if recipe.finetune:
        models = [m.model_copy(update={"datasets": swap(m.datasets)}) for m in recipe.finetune.models]
        update["finetune"] = recipe.finetune.model_copy(update={"models": models})
    for section in ("annotate", "sample"):
        if getattr(recipe, section) is not None:
            update[section] = getattr(recipe, section).model_copy(
                update={"datasets": swap(getattr(recipe, section).datasets)}
            )
    if recipe.rl:
        settings = recipe.rl.settings
        if rft:
            names = [stand_in.name if n in missing else n for n in rft]
            settings = settings.model_copy(update={"rft": settings.rft.model_copy(update={"datasets": names})})
        update["rl"] = recipe.rl.model_copy(
            update={"datasets": swap(recipe.rl.datasets), "eval": swap(recipe.rl.eval), "settings": settings}
        )
    return recipe.model_copy(update=update)


def smoke_recipe(recipe: Recipe, out: Path) -> Recipe:
    from verikit.pipeline.stage import registered

    recipe = local_stand_ins(recipe)
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
