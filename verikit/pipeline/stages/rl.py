"""The rl stage (the paper's Table 2): each method trains the policy, then every model is evaluated greedily.

Methods are registered RL algorithms (``rft``, ``orm-ppo``, ``step-ppo``, ``grpo-process`` or a plugin's) run by
:func:`verikit.rl.runs.run_rl` on the train problems of every dataset of the stage (the paper: GSM8K and MATH) under
one domain; the SFT policy is the first row. A method is reused while its fingerprint (policy and reward-model
weights, the train rows, the settings) is unchanged, and a killed PPO run resumes from its checkpoint. Greedy answers
are saved per model and dataset, so a re-run only evaluates what is new.
"""

from __future__ import annotations

import json

from verikit.metrics import bootstrap_accuracy
from verikit.pipeline.reuse import (
    Fingerprint,
    digest,
    model_identity,
    record,
    reward_model_identity,
    rows_identity,
    start,
)
from verikit.pipeline.stage import Stage
from verikit.pipeline.workspace import Workspace, release, write_json_atomically


def rl_config(ws: Workspace, method):
    from verikit.rl.config import RLConfig

    stage = ws.recipe.rl
    spec = {rm.name: rm for rm in ws.recipe.reward_models}.get(method.reward_model)
    settings = stage.settings.model_dump(exclude_unset=True)
    settings.setdefault("eval_problems", 0)
    limits = [ref.limit for ref in stage.datasets if ref.limit is not None]
    if limits:
        settings.setdefault("train_problems", max(limits))
    settings.setdefault("prompt_template", ws.recipe.prompt_template)
    return RLConfig(
        algo=method.algo,
        policy=ws.model("policy"),
        datasets=[ref.name for ref in stage.datasets],
        rm=None if spec is None else ws.reward_model_path(spec),
        released_convention=bool(spec and spec.released_convention),
        **settings,
    )


def _train_rows(config) -> str:
    from verikit import components

    return digest(
        [
            rows_identity(components.load_dataset(name, split="train", limit=config.train_problems))
            for name in config.datasets
        ]
    )


def _greedy(ws: Workspace, model: str, name: str) -> dict:
    """Greedy accuracy of ``model`` on every evaluation dataset, its answers saved under ``rl/<name>/greedy-*.json``."""
    stage = ws.recipe.rl
    results, completer = {}, None
    identity = model_identity(model)
    try:
        for ref in stage.eval:
            problems = ws.problems(ref)
            domain = ws.domain(problems)
            checker, _ = ws.checker_and_splitter(domain)
            path = ws.out / "rl" / name / f"greedy-{ref.key}.json"
            key = {
                "model": identity,
                "rows": rows_identity(problems),
                "prompt_template": domain.prompt_template,
                "max_new_tokens": stage.max_new_tokens,
                "backend": ws.recipe.backend.model_dump(),
            }
            saved = json.loads(path.read_text()) if path.exists() else {}
            if saved.get("key") != key:
                completer = completer or ws.generation_backend(model, max_new_tokens=stage.max_new_tokens)
                texts = completer.complete(
                    [domain.prompt(p) for p in problems], n=1, temperature=0.0, max_new_tokens=stage.max_new_tokens
                )
                saved = {"key": key, "greedy": [t[0] for t in texts]}
                write_json_atomically(path, saved)
            verdicts = [checker.is_correct(text, p.gold_answer) for text, p in zip(saved["greedy"], problems)]
            results[ref.key] = bootstrap_accuracy(verdicts, seed=0)
    finally:
        if completer is not None:
            release(completer)
    return results


def run_rl_stage(ws: Workspace) -> dict:
    from verikit.rl.runs import run_rl

    stage = ws.recipe.rl
    table = {"sft": _greedy(ws, ws.model("policy"), "sft")}
    reused = {}
    for name, method in stage.methods.items():
        config = rl_config(ws, method)
        folder = ws.out / "rl" / name
        fingerprint = Fingerprint.of(
            policy=model_identity(config.policy),
            rows=_train_rows(config),
            reward_model=reward_model_identity(config.rm) if config.rm else "",
            settings=config.model_dump(exclude={"policy", "rm"}),
            domain=stage.domain or ws.recipe.domain or "",
        )
        decision = start(folder, fingerprint, f"RL method {name}")
        if not decision.reuse:
            run_rl(config, folder, domain=stage.domain or ws.recipe.domain)
            record(folder, fingerprint)
        reused[name] = decision.report()
        table[name] = _greedy(ws, str((folder / "model").resolve()), name)
    return {"table": table, "methods": reused}


def report_rl(recipe, result: dict) -> tuple[dict, list[str]]:
    from verikit.pipeline.report import format_table

    by_dataset: dict[str, dict] = {}
    for method, results in result["table"].items():
        for dataset, point in results.items():
            by_dataset.setdefault(dataset, {})[method] = point
    return {"rl": by_dataset}, [
        format_table(f"Table 2 ({recipe.name}): greedy accuracy (%), 95% interval", by_dataset, recipe.paper)
    ]


def smoke_rl(recipe, tiny: str, out) -> dict:
    rl = recipe.rl
    settings = rl.settings.model_copy(
        update={
            "steps": 1,
            "train_problems": 4,
            "rft": rl.settings.rft.model_copy(
                update={"samples": 2, "problems": 4, "epochs": 1.0, "batch_size": 4, "max_length": 128}
            ),
            "ppo": rl.settings.ppo.model_copy(
                update={
                    "prompts_per_step": 2,
                    "minibatch_size": 2,
                    "max_new_tokens": 16,
                    "ppo_epochs": 1,
                    "precision": "auto",
                    "gradient_checkpointing": False,
                    "min_learning_rate": 0.0,
                }
            ),
        }
    )
    return {
        "rl": rl.model_copy(
            update={
                "datasets": [ref.model_copy(update={"limit": 4}) for ref in rl.datasets],
                "eval": [ref.model_copy(update={"limit": min(ref.limit or 3, 3)}) for ref in rl.eval],
                "settings": settings,
                "max_new_tokens": 24,
            }
        )
    }


STAGE = Stage(
    run=run_rl_stage,
    section="rl",
    after=("train",),
    smoke=smoke_rl,
    report=report_rl,
    description="RL from the policy (RFT, ORM-PPO, step-PPO …), each evaluated greedily (Table 2)",
)
