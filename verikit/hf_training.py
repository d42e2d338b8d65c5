"""What every ``transformers.Trainer`` run of verikit shares (reward models, supervised fine-tuning, RFT): the
``TrainingArguments`` made from a settings model, and training that resumes from its checkpoints and saves a plain
model (LoRA merged, in the settings' dtype; under FSDP/ZeRO-3 every process gathers and the main one writes).

Both trainers' settings subclass :class:`TrainerSettings` (one definition of each shared field; each subclass
sets its own defaults). Two things here exist for large models: batches grouped by length (the padding a batch
computes on is counted, and reported beside the real tokens), and a checkpoint plan made before training from the
free disk (a 7B run's resumable checkpoint — fp32 weights and Adam's two moments — is 16 bytes a parameter).
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from verikit.errors import VerikitError

#: what every trainer's summary says of its speed and its disk plan; the train and finetune stages report them
THROUGHPUT = ("tokens_per_second", "computed_per_real_token", "model_tflops_per_second", "mfu", "checkpoints")

#: dense bf16 tensor-core peak (TFLOP/s) by device name, for the MFU the trainers report; VERIKIT_PEAK_TFLOPS overrides
PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0, "L4": 121.0}


class TrainerSettings(BaseModel):
    """What every verikit ``transformers.Trainer`` run is told (reward models, SFT, RFT)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(default=2e-5, gt=0, description="Peak learning rate.")
    min_learning_rate: float = Field(default=0.0, ge=0, description="The cosine schedule's floor.")
    epochs: float = Field(default=3.0, gt=0, description="Passes over the data.")
    batch_size: int = Field(default=8, ge=1, description="Rows per device and step.")
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    max_length: int = Field(default=512, ge=8, description="Tokens per row; longer ones are cut.")
    warmup_ratio: float = Field(default=0.03, ge=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    group_by_length: bool = Field(
        default=True,
        description=(
            "Batch rows of similar length together (randomly within mega-batches), so little is computed on padding."
        ),
    )
    checkpoints: Literal["auto", "resumable", "model", "none"] = Field(
        default="auto",
        description=(
            "Saves during training. resumable: weights and optimiser state (16 bytes a parameter; a killed run "
            "resumes); model: weights only (not resumable); none. auto: resumable when two such checkpoints and the "
            "final model fit in a quarter of the free disk, else model, else none. The run stops before training, "
            "naming the sizes, when what it needs does not fit."
        ),
    )
    save_steps: int = Field(default=500, ge=1, description="Optimiser steps between checkpoints.")
    precision: Literal["auto", "fp32", "bf16-mixed", "fp16-mixed", "bf16"] = Field(
        default="auto",
        description=(
            "auto: bf16-mixed on a GPU with bf16, fp32 elsewhere. *-mixed: fp32 master weights and optimiser states, "
            "forward and backward under autocast. bf16: weights in bf16 (half the memory; updates smaller than bf16's "
            "resolution, as at the paper's lr 1e-6, are lost)."
        ),
    )
    gradient_checkpointing: bool = Field(default=False, description="Recompute activations in backward (7B+).")
    lora_rank: int = Field(
        default=0,
        ge=0,
        description=(
            "0: every weight learns. r > 0: LoRA adapters of rank r on every linear layer (peft), merged when saved."
        ),
    )
    lora_alpha: float = Field(default=16.0, gt=0)
    lora_dropout: float = Field(default=0.0, ge=0, lt=1)
    save_dtype: Literal["float32", "bfloat16", "float16"] = Field(
        default="float32",
        description=("dtype of the saved model (bfloat16 halves a 7B model's disk and serving memory)."),
    )
    seed: int = 0


def resolve_precision(precision: str) -> str:
    """``auto`` made concrete for this machine: bf16-mixed on a GPU that has bf16, fp32 otherwise."""
    import torch

    if precision != "auto":
        if precision.endswith("-mixed") and not torch.cuda.is_available():
            raise VerikitError(f"precision {precision!r} needs a CUDA GPU; use 'auto' or 'fp32' on CPU")
        return precision
    return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"


def weights_dtype(precision: str, lora: bool):
    """The dtype the base's weights load in: fp32 master weights for full mixed-precision training; the half
    dtype when the weights are half (``bf16``) or frozen under LoRA (peft keeps the trained adapters in fp32)."""
    import torch

    half = {"bf16-mixed": torch.bfloat16, "fp16-mixed": torch.float16}
    if precision == "bf16":
        return torch.bfloat16
    return half[precision] if lora and precision in half else torch.float32


def schedule_arguments(learning_rate: float, min_learning_rate: float) -> dict:
    """TrainingArguments' cosine schedule, decaying to ``min_learning_rate`` instead of 0 when it is set."""
    if not min_learning_rate:
        return {"lr_scheduler_type": "cosine"}
    if min_learning_rate >= learning_rate:
        raise VerikitError(f"min_learning_rate {min_learning_rate} is not below learning_rate {learning_rate}")
    return {"lr_scheduler_type": "cosine_with_min_lr", "lr_scheduler_kwargs": {"min_lr": min_learning_rate}}


def _argument_names() -> set[str]:
    """The fields of this transformers' ``TrainingArguments`` (some were renamed between releases)."""
    import dataclasses

    from transformers import TrainingArguments

    return {f.name for f in dataclasses.fields(TrainingArguments)}


def checkpointing_arguments(enabled: bool) -> dict:
    """TrainingArguments' activation (gradient) checkpointing, under whichever name this transformers has."""
    if not enabled:
        return {}
    names = _argument_names()
    name = "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
    return {name: True, f"{name}_kwargs": {"use_reentrant": False}}


def sampling_arguments(group_by_length: bool) -> dict:
    """TrainingArguments' length-grouped sampling, under whichever name this transformers has."""
    if not group_by_length:
        return {}
    if "train_sampling_strategy" in _argument_names():
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True}


_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


def checkpoint_plan(model, settings: Any, out: Path, free_bytes: int | None = None) -> dict:
    """What training will save, chosen before it starts from the free disk under ``out``: ``{"mode", …,
    "arguments"}`` (the TrainingArguments that carry it out). Raises :class:`VerikitError`, naming the sizes, when
    what ``settings.checkpoints`` asks for (or, under auto, even the final model) does not fit."""
    parameters = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    final = parameters * _BYTES[settings.save_dtype]
    weights = 4 * (trainable if settings.lora_rank else parameters)  # what Trainer writes of the model
    sizes = {"resumable": weights + 12 * trainable, "model": weights, "none": 0}
    out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out).free if free_bytes is None else free_bytes

    def need(mode: str) -> int:  # save_total_limit=1 keeps one, but the next is written before the last is deleted
        return 2 * sizes[mode] + final

    if settings.checkpoints == "auto":
        fitting = [m for m in ("resumable", "model") if need(m) <= free // 4] + (["none"] if final <= free else [])
        if not fitting:
            raise VerikitError(
                f"not enough disk under {out}: the final model needs {_size(final)}, {_size(free)} are free"
            )
        mode = fitting[0]
    else:
        mode = settings.checkpoints
        if need(mode) > free:
            raise VerikitError(
                f"not enough disk under {out} for checkpoints={mode}: two checkpoints of {_size(sizes[mode])} and "
                f"the final model of {_size(final)} need {_size(need(mode))}, {_size(free)} are free (checkpoints="
                f"model saves {_size(sizes['model'])} each; none saves only the final model)"
            )
    if mode == "none":
        arguments: dict = {"save_strategy": "no"}
    else:
        arguments = {
            "save_strategy": "steps",
            "save_steps": settings.save_steps,
            "save_total_limit": 1,
            "save_only_model": mode == "model",
        }
    return {
        "mode": mode,
        "checkpoint_bytes": sizes[mode],
        "final_model_bytes": final,
        "free_bytes": free,
        "arguments": arguments,
    }


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


class CountingCollator:
    """A data collator that counts the tokens each batch computes on (its padded shape) and the real ones (its
    attention mask): their ratio is what padding costs."""

    def __init__(self, collate):
        self.collate, self.computed, self.real = collate, 0, 0

    def __call__(self, rows):
        batch = self.collate(rows)
        self.computed += batch["input_ids"].numel()
        self.real += int(batch["attention_mask"].sum())
        return batch


def peak_tflops() -> float | None:
    """The device's dense bf16 peak in TFLOP/s: ``VERIKIT_PEAK_TFLOPS``, else the CUDA device's from
    :data:`PEAK_TFLOPS`, else ``None`` (a CPU, or a GPU not in the table)."""
    import os

    import torch

    peak = os.environ.get("VERIKIT_PEAK_TFLOPS")
    if peak is None and torch.cuda.is_available():
        name = torch.cuda.get_device_name()
        peak = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    return None if peak is None else float(peak)


def throughput(model, counter: CountingCollator, seconds: float) -> dict:
    """Tokens per second, the tokens computed per real token, the model FLOP/s (6 × parameters × computed tokens per
    second) and, on a GPU whose peak is known (or ``VERIKIT_PEAK_TFLOPS``), the MFU."""
    parameters = sum(p.numel() for p in model.parameters())
    seconds = max(seconds, 1e-9)
    flops = 6 * parameters * counter.computed / seconds
    peak = peak_tflops()
    return {
        "tokens_real": counter.real,
        "tokens_computed": counter.computed,
        "computed_per_real_token": round(counter.computed / max(1, counter.real), 4),
        "tokens_per_second": round(counter.real / seconds, 1),
        "model_tflops_per_second": round(flops / 1e12, 4),
        "mfu": round(flops / 1e12 / peak, 4) if peak else None,
    }


def training_arguments(
    settings: Any,
    checkpoints: Path,
    examples: int,
    precision: str,
    progress: bool,
    min_warmup_steps: int = 0,
    plan: dict | None = None,
):
    """``TrainingArguments`` for ``examples`` rows under ``settings``: the cosine schedule (with its floor), warm-up
    as a fraction of the optimiser steps, checkpoints every ``save_steps`` (the last one kept), CPU or CUDA."""
    import torch
    from transformers import TrainingArguments

    batches = math.ceil(examples / settings.batch_size)
    steps = math.ceil(batches / settings.gradient_accumulation_steps * settings.epochs)
    return TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        num_train_epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        **schedule_arguments(settings.learning_rate, settings.min_learning_rate),
        warmup_steps=max(min_warmup_steps, int(settings.warmup_ratio * steps)),
        weight_decay=settings.weight_decay,
        logging_steps=10,
        **(
            plan["arguments"]
            if plan
            else {"save_strategy": "steps", "save_steps": settings.save_steps, "save_total_limit": 1}
        ),
        **sampling_arguments(getattr(settings, "group_by_length", False)),
        report_to=[],
        seed=settings.seed,
        data_seed=settings.seed,
        dataloader_num_workers=0,
        disable_tqdm=not progress,
        use_cpu=not torch.cuda.is_available(),
        bf16=precision == "bf16-mixed",
        fp16=precision == "fp16-mixed",
        remove_unused_columns=False,
        **checkpointing_arguments(settings.gradient_checkpointing),
    )


def train_and_save(
    trainer, model, tokenizer, settings: Any, checkpoints: Path, out: Path, resumable: bool = True
) -> dict | None:
    """Train (from the last checkpoint when there is a resumable one) and save the model and tokenizer into ``out``.
    Returns ``{"result", "resumed", "seconds"}``, or ``None`` in a process of a distributed run that is not the main
    one."""
    import torch

    resumed = resumable and any(Path(checkpoints).glob("checkpoint-*"))
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=True if resumed else None)
    seconds = round(time.perf_counter() - started, 1)
    if trainer.args.world_size > 1:
        # every process takes part: FSDP and ZeRO-3 gather the sharded weights for the main process to write
        trainer.save_model(str(out))
        if not trainer.is_world_process_zero():
            return None
    else:
        if settings.lora_rank:
            model = model.merge_and_unload()  # a plain causal LM again: every reader loads it as it loads any model
        model.to(getattr(torch, settings.save_dtype)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {"result": result, "resumed": resumed, "seconds": seconds}
