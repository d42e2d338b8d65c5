"""The train stage: each reward model of the recipe, of its registered kind, from its annotation datasets.

A reward model is trained on the annotations of ``datasets`` (default: every annotation dataset; the paper trains
one per dataset) with its kind's trainer (:mod:`verikit.rm.kinds`), and kept while its fingerprint (base weights,
annotation folders, kind, labels, settings) is unchanged; a killed training resumes from its checkpoints. With
``launcher: accelerate`` the training runs in ``accelerate launch`` (``python -m verikit.pipeline.train_worker``), so
DDP, FSDP or DeepSpeed ZeRO-3 spread it over the machine's GPUs as the accelerate config file says.
"""

from __future__ import annotations

from pathlib import Path

from verikit.hf_training import THROUGHPUT
from verikit.pipeline.recipe import RewardModelSpec
from verikit.pipeline.reuse import Fingerprint, folder_identity, model_identity, record, start
from verikit.pipeline.stage import Stage
from verikit.pipeline.workspace import Workspace


def merged_examples(folders: list[Path], targets: str, labels: str):
    """One example set from several annotation folders (skip counts added up)."""
    from verikit.rm.data import ExampleSet, load_examples

    merged = ExampleSet([])
    for folder in folders:
        part = load_examples(folder, targets, labels)
        merged.examples += part.examples
        merged.domain = merged.domain or part.domain
        for reason, count in part.skipped.items():
            merged.skip(reason, count)
    return merged


def annotation_folders(ws: Workspace, spec: RewardModelSpec) -> list[Path]:
    return [
        ws.annotations(ref) for ref in ws.recipe.annotate.datasets if spec.datasets is None or ref.key in spec.datasets
    ]


def run_train(ws: Workspace) -> dict:
    from verikit.rm.kinds import trainable_kind

    report = {}
    for spec in ws.recipe.reward_models:
        if spec.path is not None:
            continue
        out = ws.out / "reward_models" / spec.name
        base = ws.resolve(spec.base) if spec.base else ws.model("reward_model_base")
        folders = annotation_folders(ws, spec)
        settings = spec.training_settings()
        fingerprint = Fingerprint.of(
            base=model_identity(base),
            annotations=[folder_identity(f) for f in folders],
            kind=spec.kind,
            labels=spec.labels,
            settings=settings.model_dump(),
            launcher=spec.launcher,
        )
        decision = start(out, fingerprint, f"reward model {spec.name}")
        if decision.reuse:
            report[spec.name] = decision.report()
            continue
        kind = trainable_kind(spec.kind)
        if spec.launcher == "accelerate":
            from verikit.models import RM_MANIFEST
            from verikit.pipeline.stages.finetune import launch_worker

            summary = launch_worker(
                "reward-model",
                {
                    "kind": spec.kind,
                    "labels": spec.labels,
                    "base": base,
                    "settings": settings.model_dump(),
                    "annotations": [str(f) for f in folders],
                },
                out,
                spec.accelerate_config,
                RM_MANIFEST,
            )
        else:
            examples = merged_examples(folders, kind.targets, spec.labels)
            summary = kind.train(
                settings, base, examples, out, labels=spec.labels, domain=ws.recipe.domain or examples.domain
            )
        record(out, fingerprint)
        report[spec.name] = {
            **decision.report(),
            **{
                k: summary.get(k)
                for k in (
                    "examples",
                    "trained_tags",
                    "trained_steps",
                    "skipped_records",
                    "train_seconds",
                    "train_loss",
                    "precision",
                    *THROUGHPUT,
                )
                if k in summary
            },
        }
        speed = ""
        if "tokens_per_second" in summary:
            mfu = f", MFU {100 * summary['mfu']:.1f}%" if summary.get("mfu") is not None else ""
            speed = (
                f" ({summary['tokens_per_second']:,.0f} tokens/s, "
                f"{summary['computed_per_real_token']:.2f} computed per real{mfu})"
            )
        print(
            f"   trained {spec.name} ({spec.kind}) on {summary.get('examples')} solutions in "
            f"{summary.get('train_seconds', 0):.0f}s{speed}",
            flush=True,
        )
    return report


def smoke_reward_models(recipe, tiny: str, out: Path) -> dict:
    """A tiny model's settings (1 epoch, fp32, in-process); a model given by ``path`` becomes an untrained tag-head PRM
    of the tiny model (a smoke run checks plumbing, and another recipe's model is not there); kinds that need both
    labels in the annotations are left out (a random tiny model's annotation rarely has both)."""
    from verikit import components

    kept = []
    for spec in recipe.reward_models:
        if spec.kind == "likelihood":
            print(
                f"smoke: reward model {spec.name!r} (likelihood) left out: it needs both labels in the annotations",
                flush=True,
            )
            continue
        if spec.path is not None:
            kept.append(spec.model_copy(update={"path": untrained_prm(tiny, out / "smoke-rm")}))
            continue
        settings = components.reward_model_kind(spec.kind).settings
        smaller = {
            "learning_rate": 1e-3,
            "epochs": 1.0,
            "batch_size": 4,
            "gradient_accumulation_steps": 1,
            "max_length": 256,
            "precision": "auto",
        }
        training = {**spec.training, **{k: v for k, v in smaller.items() if k in settings.model_fields}}
        training.pop("gradient_checkpointing", None)
        kept.append(spec.model_copy(update={"training": training, "base": None, "launcher": "in-process"}))
    return {"reward_models": kept}


def untrained_prm(model: str, folder: Path) -> str:
    """``model`` with a PRM manifest: read at its tags like a trained PRM (its scores mean nothing)."""
    import json
    import shutil

    from verikit.models import RM_MANIFEST
    from verikit.rm.convention import ensure_tag_token, resolve_convention

    if not (folder / RM_MANIFEST).exists():
        from transformers import AutoModelForCausalLM, AutoTokenizer

        shutil.rmtree(folder, ignore_errors=True)
        tokenizer, lm = AutoTokenizer.from_pretrained(model), AutoModelForCausalLM.from_pretrained(model)
        ensure_tag_token(tokenizer, lm)
        lm.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        (folder / RM_MANIFEST).write_text(
            json.dumps(
                {
                    "kind": "prm",
                    "convention": resolve_convention(tokenizer).to_dict(),
                    "note": "untrained: a --smoke stand-in",
                }
            )
        )
    return str(folder.resolve())


STAGE = Stage(
    run=run_train,
    section="reward_models",
    present=lambda recipe: any(rm.path is None for rm in recipe.reward_models),
    after=("annotate",),
    smoke=smoke_reward_models,
    description="train every reward model of the recipe",
)
