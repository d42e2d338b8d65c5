"""The rl stage (the paper's Table 2): each method trains the policy, then every model is evaluated greedily.

Methods are ``rft``, ``orm-ppo``, ``step-ppo`` (or ``grpo-process``) through :func:`verikit.rl.runs.run_rl`; the SFT
policy is the first row. A method whose ``rl.json`` holds the same configuration is not trained again, and a
killed PPO run resumes from its checkpoint. Greedy answers are saved per model and dataset, so a re-run only
evaluates what is new.
"""

from __future__ import annotations

import json

from verikit.metrics import bootstrap_accuracy
from verikit.pipeline.workspace import Workspace, release, write_json_atomically


def rl_config(ws: Workspace, method):
    from verikit.rl.config import RLConfig

    stage = ws.recipe.rl
    spec = {rm.name: rm for rm in ws.recipe.reward_models}.get(method.reward_model)
    settings = dict(stage.settings)
    settings.setdefault("eval_problems", 0)
    if stage.dataset.limit is not None:
        settings.setdefault("train_problems", stage.dataset.limit)
    return RLConfig(algo=method.algo, policy=ws.model("policy"), dataset=stage.dataset.name,
                    rm=None if spec is None else ws.reward_model_path(spec),
                    released_convention=bool(spec and spec.released_convention),
                    prompt_template=ws.recipe.prompt_template, **settings)


def _greedy(ws: Workspace, model: str, name: str) -> dict:
    """Greedy accuracy of ``model`` on every evaluation dataset, its answers saved under ``rl/<name>/greedy-*.json``."""
    stage = ws.recipe.rl
    results, completer = {}, None
    try:
        for ref in stage.eval:
            problems = ws.problems(ref)
            domain = ws.domain(problems)
            checker, _ = ws.checker_and_splitter(domain)
            path = ws.out / "rl" / name / f"greedy-{ref.key}.json"
            key = {"model": model, "problem_ids": [p.id for p in problems], "prompt_template": domain.prompt_template,
                   "max_new_tokens": stage.max_new_tokens}
            saved = json.loads(path.read_text()) if path.exists() else {}
            if saved.get("key") != key:
                completer = completer or ws.generation_backend(model, max_new_tokens=stage.max_new_tokens)
                texts = completer.complete([domain.prompt(p) for p in problems], n=1, temperature=0.0,
                                           max_new_tokens=stage.max_new_tokens)
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
    for name, method in stage.methods.items():
        config = rl_config(ws, method)
        folder = ws.out / "rl" / name
        done = folder / "rl.json"
        if not (done.exists() and json.loads(done.read_text()).get("config") == config.model_dump()):
            run_rl(config, folder)
        table[name] = _greedy(ws, str((folder / "model").resolve()), name)
    return {"table": table}
