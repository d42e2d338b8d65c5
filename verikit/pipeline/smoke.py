"""``--smoke``: a recipe shrunk to a CPU plumbing check on a few real rows, every model one tiny local LM.

Every stage the recipe has runs, on the recipe's own datasets and prompt template, with the recipe's training
options (precision, LoRA, gradient checkpointing) where the CPU can run them. What changes: all four models
become one small randomly initialised causal LM (a byte-level BPE tokenizer trained on the datasets' text),
a few problems per dataset, 2 rollouts, short generations, one RL step, in-process annotation and training,
the transformers backend. It checks that the recipe runs end to end on real data, not accuracy.
"""

from __future__ import annotations

from pathlib import Path

from verikit import components
from verikit.pipeline.recipe import DatasetRef, Recipe

PROBLEMS = 3


def _small(refs: list[DatasetRef]) -> list[DatasetRef]:
    return [ref.model_copy(update={"limit": min(ref.limit or PROBLEMS, PROBLEMS)}) for ref in refs]


def tiny_model_for(recipe: Recipe, out: Path) -> str:
    from verikit.tiny_models import build_tiny_causal_lm

    refs = [*(recipe.annotate.datasets if recipe.annotate else []), *(recipe.sample.datasets if recipe.sample else []),
            *([recipe.rl.dataset, *recipe.rl.eval] if recipe.rl else [])]
    texts = []
    for ref in refs:
        for problem in components.load_dataset(ref.name, split=ref.split, limit=40):
            texts.append(f"{problem.question} {problem.gold_solution or ''} {problem.gold_answer}")
    if recipe.prompt_template:
        texts.append(recipe.prompt_template.replace("{question}", ""))
    folder = out / "smoke-model"
    if (folder / "config.json").exists():
        return str(folder.resolve())
    return str(Path(build_tiny_causal_lm(folder, texts)).resolve())


def smoke_recipe(recipe: Recipe, out: Path) -> Recipe:
    model = tiny_model_for(recipe, out)
    update: dict = {"name": recipe.name + "-smoke", "backend": recipe.backend.model_copy(update={"name": "transformers", "options": {}}),
                    "models": recipe.models.model_copy(update={role: model for role in
                                                               ("generator", "completer", "reward_model_base", "policy")})}
    if recipe.annotate:
        update["annotate"] = recipe.annotate.model_copy(update={
            "datasets": _small(recipe.annotate.datasets), "samples_per_problem": 2, "n_rollouts": 2, "max_new_tokens": 24,
            "batch_size": 64, "chunk_size": 2, "ray": None})
    reward_models = []
    for spec in recipe.reward_models:
        if spec.objective == "likelihood":
            # its logistic head needs good and bad steps, which a random tiny model's annotation rarely yields
            print(f"smoke: reward model {spec.name!r} (likelihood) left out: it needs both labels in the annotations",
                  flush=True)
            continue
        training = dict(spec.training)
        training.update(learning_rate=1e-3, epochs=1.0, batch_size=4, gradient_accumulation_steps=1, max_length=256,
                        precision="auto")
        reward_models.append(spec.model_copy(update={"training": training, "base": None, "launcher": "in-process",
                                                     "path": None if recipe.annotate else spec.path}))
    update["reward_models"] = reward_models
    if recipe.sample:
        update["sample"] = recipe.sample.model_copy(update={
            "datasets": _small(recipe.sample.datasets), "samples": 4, "max_new_tokens": 24, "chunk_size": 2})
    kept = {spec.name for spec in reward_models}
    methods = None if recipe.select.methods is None else {
        row: m for row, m in recipe.select.methods.items() if m.reward_model is None or m.reward_model in kept}
    update["select"] = recipe.select.model_copy(update={"repeats": 2, "methods": methods})
    if recipe.rl:
        settings = {**recipe.rl.settings, "steps": 1, "train_problems": 4, "rft_samples": 2,
                    "ppo": {**recipe.rl.settings.get("ppo", {}), "prompts_per_step": 2, "minibatch_size": 2,
                            "max_new_tokens": 16, "ppo_epochs": 1, "precision": "auto"}}
        update["rl"] = recipe.rl.model_copy(update={"dataset": recipe.rl.dataset.model_copy(update={"limit": 4}),
                                                    "eval": _small(recipe.rl.eval), "settings": settings,
                                                    "max_new_tokens": 24})
    return recipe.model_copy(update=update)
