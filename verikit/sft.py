"""Supervised fine-tuning of a causal LM on (prompt, response) pairs: the paper's generators and completer (MetaMathQA,
3 epochs) and RFT's fine-tuning on its kept samples.

Built on ``transformers.Trainer`` (accelerate places it on CUDA; DDP, FSDP or ZeRO-3 under ``accelerate launch``);
the loss covers the response tokens and the end-of-sequence token, not the prompt. TRL's ``SFTTrainer`` would do
the same work with its own dataset conventions; this keeps one trainer shape with the reward models' (precision,
LoRA, gradient checkpointing, the cosine schedule with a floor — the same helpers) and needs no TRL.

    from verikit.sft import SFTSettings, finetune
    finetune(SFTSettings(learning_rate=2e-5, epochs=3), "meta-llama/Llama-2-7b-hf", pairs, "out/sft")
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SFT_MANIFEST = "verikit_sft.json"


class SFTSettings(BaseModel):
    """How a causal LM is fine-tuned on (prompt, response) pairs (the paper: 3 epochs on MetaMathQA; learning rate 5e-6
    for Mistral-7B, 2e-5 for 7B/13B, 1e-5 for 34B, 6e-6 for 67B/70B)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(default=2e-5, gt=0, description="Peak learning rate.")
    min_learning_rate: float = Field(default=0.0, ge=0, description="The cosine schedule's floor.")
    epochs: float = Field(default=3.0, gt=0, description="Passes over the pairs (the paper: 3).")
    batch_size: int = Field(default=8, ge=1, description="Pairs per device and step.")
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    max_length: int = Field(default=512, ge=8, description="Tokens per pair (prompt and response); longer ones are cut.")
    warmup_ratio: float = Field(default=0.03, ge=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    save_steps: int = Field(default=500, ge=1, description="Optimiser steps between resumable checkpoints.")
    precision: Literal["auto", "fp32", "bf16-mixed", "fp16-mixed", "bf16"] = Field(default="auto", description=(
        "auto: bf16-mixed on a GPU with bf16, fp32 elsewhere (as for reward models)."))
    gradient_checkpointing: bool = Field(default=False, description="Recompute activations in backward (7B+).")
    lora_rank: int = Field(default=0, ge=0, description="0: every weight learns; r > 0: LoRA adapters, merged when saved.")
    lora_alpha: float = Field(default=16.0, gt=0)
    lora_dropout: float = Field(default=0.0, ge=0, lt=1)
    save_dtype: Literal["float32", "bfloat16", "float16"] = Field(default="float32")
    seed: int = 0


class _Pairs:
    """(ids, labels) per pair; labels are -100 on the prompt, so only the response (and EOS) is learnt."""

    def __init__(self, pairs, tokenizer, max_length: int):
        from verikit.tokens import prompt_and_response_ids

        self.rows, self.cut = [], 0
        for prompt, response in pairs:
            prompt_ids, response_ids = prompt_and_response_ids(tokenizer, prompt, response)
            response_ids = response_ids + [tokenizer.eos_token_id]
            ids = prompt_ids + response_ids
            self.cut += len(ids) > max_length
            self.rows.append((ids[:max_length], ([-100] * len(prompt_ids) + response_ids)[:max_length]))

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]


def finetune(settings: SFTSettings, base: str, pairs: Sequence[tuple[str, str]], out: str | Path, progress: bool = True,
             meta: dict | None = None) -> dict:
    """Fine-tune ``base`` on ``pairs`` into ``out``; resumes from ``out/checkpoints`` when a run of the same settings
    was killed. Returns the summary written to ``out/verikit_sft.json`` (``meta`` is stored in it as given)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments, set_seed

    from verikit.errors import DataError
    from verikit.models import load_pretrained, require_model
    from verikit.rm.data import padding_id, right_padded
    from verikit.rm.training import (checkpointing_arguments, resolve_precision, schedule_arguments, weights_dtype,
                                     with_lora)

    if not pairs:
        raise DataError("no (prompt, response) pairs to fine-tune on")
    require_model(base)
    out = Path(out)
    checkpoints = out / "checkpoints"
    state = checkpoints / "verikit_settings.json"
    wanted = {"base": base, "settings": settings.model_dump(), "pairs": len(pairs)}
    if state.exists() and json.loads(state.read_text()) != wanted:
        shutil.rmtree(checkpoints)  # checkpoints of other settings or data: they cannot be resumed
    checkpoints.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(wanted, indent=1))
    set_seed(settings.seed)
    precision = resolve_precision(settings.precision)
    tokenizer = load_pretrained(AutoTokenizer, base)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = load_pretrained(AutoModelForCausalLM, base, dtype=weights_dtype(precision, bool(settings.lora_rank)))
    if settings.lora_rank:
        model = with_lora(model, settings)
    data = _Pairs(pairs, tokenizer, settings.max_length)
    pad = padding_id(tokenizer)

    def collate(rows):
        ids, mask = right_padded([ids for ids, _ in rows], pad)
        return {"input_ids": ids, "attention_mask": mask, "labels": right_padded([labels for _, labels in rows], -100)[0]}

    steps = math.ceil(math.ceil(len(data) / settings.batch_size) / settings.gradient_accumulation_steps * settings.epochs)
    args = TrainingArguments(
        output_dir=str(checkpoints), num_train_epochs=settings.epochs, learning_rate=settings.learning_rate,
        **schedule_arguments(settings.learning_rate, settings.min_learning_rate),
        per_device_train_batch_size=settings.batch_size, gradient_accumulation_steps=settings.gradient_accumulation_steps,
        warmup_steps=int(settings.warmup_ratio * steps), weight_decay=settings.weight_decay, logging_steps=10,
        save_strategy="steps", save_steps=settings.save_steps, save_total_limit=1, report_to=[], seed=settings.seed,
        data_seed=settings.seed, disable_tqdm=not progress, use_cpu=not torch.cuda.is_available(),
        bf16=precision == "bf16-mixed", fp16=precision == "fp16-mixed", remove_unused_columns=False,
        **checkpointing_arguments(settings.gradient_checkpointing))
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate)
    resume = any(checkpoints.glob("checkpoint-*"))
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    if trainer.args.world_size > 1:
        trainer.save_model(str(out))
        if not trainer.is_world_process_zero():
            return {}
    else:
        if settings.lora_rank:
            model = model.merge_and_unload()
        model.to(getattr(torch, settings.save_dtype)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    summary = {"base": base, "settings": settings.model_dump(), "precision": precision, "pairs": len(data),
               "pairs_cut_at_max_length": data.cut, "resumed": resume, "train_seconds": round(time.perf_counter() - started, 1),
               "train_loss": result.training_loss, "global_step": trainer.state.global_step, **(meta or {})}
    (out / SFT_MANIFEST).write_text(json.dumps(summary, indent=1) + "\n")
    shutil.rmtree(checkpoints, ignore_errors=True)
    return summary
