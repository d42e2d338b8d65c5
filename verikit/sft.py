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
import shutil
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from verikit.hf_training import TrainerSettings

SFT_MANIFEST = "verikit_sft.json"


class SFTSettings(TrainerSettings):
    """How a causal LM is fine-tuned on (prompt, response) pairs (the paper: 3 epochs on MetaMathQA; learning rate 5e-6
    for Mistral-7B, 2e-5 for 7B/13B, 1e-5 for 34B, 6e-6 for 67B/70B); every field is
    :class:`~verikit.hf_training.TrainerSettings`'."""

    epochs: float = Field(default=3.0, gt=0, description="Passes over the pairs (the paper: 3).")
    max_length: int = Field(
        default=512, ge=8, description="Tokens per pair (prompt and response); longer ones are cut."
    )


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
            labels = [-100] * len(prompt_ids) + response_ids
            self.rows.append({"input_ids": ids[:max_length], "labels": labels[:max_length]})

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]


def finetune(
    settings: SFTSettings,
    base: str,
    pairs: Sequence[tuple[str, str]],
    out: str | Path,
    progress: bool = True,
    meta: dict | None = None,
) -> dict:
    """Fine-tune ``base`` on ``pairs`` into ``out``; resumes from ``out/checkpoints`` when a run of the same settings
    was killed. Returns the summary written to ``out/verikit_sft.json`` (``meta`` is stored in it as given)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, set_seed

    from verikit.errors import DataError
    from verikit.hf_training import (
        CountingCollator,
        checkpoint_plan,
        resolve_precision,
        throughput,
        train_and_save,
        training_arguments,
        weights_dtype,
    )
    from verikit.models import load_pretrained, require_model
    from verikit.rm.data import padding_id, right_padded
    from verikit.rm.training import with_lora

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
        ids, mask = right_padded([row["input_ids"] for row in rows], pad)
        return {"input_ids": ids, "attention_mask": mask, "labels": right_padded([r["labels"] for r in rows], -100)[0]}

    plan = checkpoint_plan(model, settings, out)
    args = training_arguments(settings, checkpoints, len(data), precision, progress, plan=plan)
    counter = CountingCollator(collate)
    trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=counter)
    trained = train_and_save(
        trainer, model, tokenizer, settings, checkpoints, out, resumable=plan["mode"] == "resumable"
    )
    if trained is None:
        return {}
    result, resume = trained["result"], trained["resumed"]
    summary = {
        "base": base,
        "settings": settings.model_dump(),
        "precision": precision,
        "pairs": len(data),
        "pairs_cut_at_max_length": data.cut,
        "resumed": resume,
        "train_seconds": trained["seconds"],
        "checkpoints": {k: v for k, v in plan.items() if k != "arguments"},
        **throughput(model, counter, trained["seconds"]),
        "train_loss": result.training_loss,
        "global_step": trainer.state.global_step,
        **(meta or {}),
    }
    (out / SFT_MANIFEST).write_text(json.dumps(summary, indent=1) + "\n")
    shutil.rmtree(checkpoints, ignore_errors=True)
    return summary
