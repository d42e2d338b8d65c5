"""The finetune stage: supervised fine-tuning of the paper's generators and completer (MetaMathQA, 3 epochs) before
anything samples from them; a model made here is named ``finetuned:NAME`` in the recipe's roles.

A model whose fingerprint (base model, training rows, settings) is unchanged is reused; a killed run resumes from its
checkpoints. ``launcher: accelerate`` trains in ``accelerate launch`` as the reward models do.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from verikit.errors import DataError, VerikitError
from verikit.hf_training import THROUGHPUT
from verikit.pipeline.reuse import Fingerprint, digest, model_identity, record, start
from verikit.pipeline.stage import Stage
from verikit.pipeline.workspace import Workspace


def training_pairs(ws: Workspace, spec) -> tuple[list[tuple[str, str]], str]:
    """(prompt, gold solution) for every problem of the spec's datasets, and a digest of what they are."""
    pairs, rows = [], []
    for ref in spec.datasets:
        problems = ws.problems(ref)
        domain = ws.domain(problems)
        for problem in problems:
            if not problem.gold_solution:
                raise DataError(
                    f"problem {problem.id!r} has no gold solution to fine-tune on", path=ref.key, field="gold_solution"
                )
            pairs.append((domain.prompt(problem), problem.gold_solution))
            rows.append((problem.id, problem.question, problem.gold_solution))
    return pairs, digest(rows)


def run_finetune(ws: Workspace) -> dict:
    from verikit.sft import SFT_MANIFEST

    report = {}
    for spec in ws.recipe.finetune.models:
        out = ws.out / "finetuned" / spec.name
        base = ws.resolve(spec.base)
        pairs, rows = training_pairs(ws, spec)
        fingerprint = Fingerprint.of(
            base=model_identity(base), rows=rows, settings=spec.settings.model_dump(), launcher=spec.launcher
        )
        decision = start(out, fingerprint, f"fine-tuned model {spec.name}")
        if decision.reuse:
            report[spec.name] = decision.report()
            continue
        if spec.launcher == "accelerate":
            summary = launch_worker(
                "sft",
                {"base": base, "settings": spec.settings.model_dump(), "pairs": pairs},
                out,
                spec.accelerate_config,
                SFT_MANIFEST,
            )
        else:
            from verikit.sft import finetune

            summary = finetune(spec.settings, base, pairs, out)
        record(out, fingerprint)
        report[spec.name] = {
            **decision.report(),
            **{
                k: summary.get(k)
                for k in ("pairs", "pairs_cut_at_max_length", "train_seconds", "train_loss", "precision", *THROUGHPUT)
            },
        }
    return report


def launch_worker(job: str, request: dict, out: Path, accelerate_config: str, manifest: str) -> dict:
    """Run one training in ``accelerate launch`` (``python -m verikit.pipeline.train_worker``); its summary."""
    out.mkdir(parents=True, exist_ok=True)
    request_path = out / "train_request.json"
    request_path.write_text(json.dumps({"job": job, **request}))
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        accelerate_config,
        "-m",
        "verikit.pipeline.train_worker",
        str(request_path),
        str(out),
    ]
    print("   " + " ".join(command), flush=True)
    done = subprocess.run(command)
    if done.returncode != 0:
        raise VerikitError(f"{job} training under accelerate failed (exit {done.returncode}): {' '.join(command)}")
    return json.loads((out / manifest).read_text())


def smoke_finetune(recipe, tiny: str, out: Path) -> dict:
    models = [
        m.model_copy(
            update={
                "base": tiny,
                "launcher": "in-process",
                "datasets": [ref.model_copy(update={"limit": min(ref.limit or 8, 8)}) for ref in m.datasets],
                "settings": m.settings.model_copy(
                    update={
                        "epochs": 1.0,
                        "batch_size": 4,
                        "max_length": 128,
                        "precision": "auto",
                        "gradient_checkpointing": False,
                    }
                ),
            }
        )
        for m in recipe.finetune.models
    ]
    return {"finetune": recipe.finetune.model_copy(update={"models": models})}


STAGE = Stage(
    run=run_finetune,
    section="finetune",
    smoke=smoke_finetune,
    description="supervised fine-tuning of generators/completers (the paper: MetaMathQA, 3 epochs)",
)
