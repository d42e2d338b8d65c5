"""The train stage: each reward model of the recipe, from the annotations of every annotation dataset.

A model whose folder already holds a manifest of the same configuration is kept (the stage is re-runnable);
a killed training resumes from its checkpoints. With ``launcher: accelerate`` the training runs in
``accelerate launch`` (``python -m verikit.pipeline.train_worker``), so DDP, FSDP or DeepSpeed ZeRO-3 spread
it over the machine's GPUs as the accelerate config file says.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from verikit.errors import VerikitError
from verikit.models import RM_MANIFEST
from verikit.pipeline.recipe import RewardModelSpec
from verikit.pipeline.workspace import Workspace, write_json_atomically


def merged_examples(folders: list[Path], objective: str, labels: str):
    """One example set from several annotation folders (skip counts added up)."""
    from verikit.rm.data import ExampleSet, load_examples

    merged = ExampleSet([])
    for folder in folders:
        part = load_examples(folder, objective, labels)
        merged.examples += part.examples
        merged.domain = merged.domain or part.domain
        for reason, count in part.skipped.items():
            merged.skip(reason, count)
    return merged


def prm_config(ws: Workspace, spec: RewardModelSpec):
    from verikit.rm.config import PRMConfig

    return PRMConfig(base=spec.base or ws.model("reward_model_base"), objective=spec.objective, labels=spec.labels,
                     **spec.training)


def _up_to_date(folder: Path, wanted: dict) -> bool:
    manifest = folder / RM_MANIFEST
    if not manifest.exists():
        return False
    stored = json.loads(manifest.read_text())
    return stored.get("config", stored.get("pipeline_config")) == wanted


def run_train(ws: Workspace) -> dict:
    folders = [ws.annotations(ref) for ref in ws.recipe.annotate.datasets]
    report = {}
    for spec in ws.recipe.reward_models:
        if spec.path is not None:
            continue
        out = ws.out / "reward_models" / spec.name
        if spec.objective == "likelihood":
            wanted = {"base": spec.base or ws.model("reward_model_base"), **spec.training}
            if _up_to_date(out, wanted):
                report[spec.name] = {"reused": True}
                continue
            from verikit.rm.likelihood import train_likelihood_prm

            examples = merged_examples(folders, "prm", spec.labels)
            domain = ws.recipe.domain or examples.domain
            summary = train_likelihood_prm(wanted["base"], examples, out, domain=domain, **spec.training)
            manifest = json.loads((out / RM_MANIFEST).read_text())
            write_json_atomically(out / RM_MANIFEST, {**manifest, "pipeline_config": wanted})
            report[spec.name] = {"reused": False, "train_seconds": summary["train_seconds"], "trained_steps": summary["trained_steps"]}
            continue
        config = prm_config(ws, spec)
        if _up_to_date(out, config.model_dump()):
            report[spec.name] = {"reused": True}
            continue
        if spec.launcher == "accelerate":
            summary = _train_with_accelerate(config, folders, out, spec.accelerate_config)
        else:
            from verikit.rm.training import train_reward_model

            summary = train_reward_model(config, merged_examples(folders, config.objective, config.labels), out)
        report[spec.name] = {"reused": False, **{k: summary.get(k) for k in
                             ("examples", "trained_tags", "skipped_records", "train_seconds", "train_loss", "precision")}}
        print(f"   trained {spec.name} ({config.objective}) on {summary['examples']} solutions in "
              f"{summary['train_seconds']:.0f}s", flush=True)
    return report


def _train_with_accelerate(config, folders: list[Path], out: Path, accelerate_config: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    request = out / "train_request.json"
    request.write_text(json.dumps({"config": config.model_dump(), "annotations": [str(f) for f in folders]}, indent=1))
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", accelerate_config,
               "-m", "verikit.pipeline.train_worker", str(request), str(out)]
    print("   " + " ".join(command), flush=True)
    done = subprocess.run(command)
    if done.returncode != 0:
        raise VerikitError(f"reward-model training under accelerate failed (exit {done.returncode}): {' '.join(command)}")
    return json.loads((out / RM_MANIFEST).read_text())
