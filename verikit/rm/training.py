"""Training process and outcome reward models in the Math-Shepherd form.

verikit owns this trainer because TRL no longer ships one (its last ``PRMTrainer`` was a token
classifier whose collator cast soft labels to integers). The model is a plain causal LM; at every step
tag it is asked to put ``+`` above ``-``: the loss is the cross-entropy of the two candidate logits
against the step's target — 0/1 (hard estimation) or the soft-estimation fraction used as a probability
— at tag positions only. An ORM is the same model trained on one target per solution (its final
correctness) at the last tag. ``lm_loss_weight`` optionally keeps the causal-LM loss on correct
solutions beside it (off by default, i.e. the paper's recipe): a small verifier forgets the arithmetic
it knows when fine-tuned on labels alone, and the LM term holds it in place.

Built on ``transformers.Trainer``, so ``accelerate`` places it on CUDA when present, and checkpoints in
``OUT/checkpoints`` make a killed run resume where it stopped.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

from transformers import Trainer

from verikit.errors import DataError, VerikitError
from verikit.models import RM_MANIFEST
from verikit.rm.config import PRMConfig
from verikit.rm.data import IGNORE, ExampleSet, collate, load_examples, tokenize_example



def tag_loss(logits, tag_targets, good_id: int, bad_id: int):
    """Mean cross-entropy of (``+``, ``-``) at positions whose target is not IGNORE; soft targets as given.

    ``logits``: [batch, length, vocab]; ``tag_targets``: [batch, length] floats. Positions with IGNORE
    contribute nothing (not even through the mean), so padding, question and solution tokens never count.
    """
    mask = tag_targets != IGNORE
    if not bool(mask.any()):
        return logits.sum() * 0.0  # keeps the graph; a batch with no trained tag adds nothing
    pair = logits[mask][:, [good_id, bad_id]].float().log_softmax(-1)
    target = tag_targets[mask].to(pair.dtype)
    return -(target * pair[:, 0] + (1.0 - target) * pair[:, 1]).mean()


def lm_loss(logits, lm_labels):
    import torch.nn.functional as F

    shifted_logits, shifted_labels = logits[:, :-1], lm_labels[:, 1:]
    if not bool((shifted_labels != -100).any()):
        return logits.sum() * 0.0
    return F.cross_entropy(shifted_logits.reshape(-1, shifted_logits.size(-1)).float(), shifted_labels.reshape(-1), ignore_index=-100)


class PRMTrainer(Trainer):
    """``transformers.Trainer`` with the tag loss (and the optional LM term) as its objective."""

    def __init__(self, *args, good_id: int, bad_id: int, lm_loss_weight: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.good_id, self.bad_id, self.lm_loss_weight = good_id, bad_id, lm_loss_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        loss = tag_loss(outputs.logits, inputs["tag_targets"], self.good_id, self.bad_id)
        if self.lm_loss_weight:
            loss = loss + self.lm_loss_weight * lm_loss(outputs.logits, inputs["lm_labels"])
        return (loss, outputs) if return_outputs else loss


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        return self.rows[index]


def load_base(base: str, weights_dtype=None):
    """Tokenizer and causal LM of ``base`` (a folder or a hub id), the tag made one token if needed.

    ``weights_dtype`` (default float32) is the dtype the weights are loaded in, whatever the checkpoint was saved
    in: transformers would otherwise keep a bf16 checkpoint in bf16, and AdamW would then update bf16 weights.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from verikit.models import load_pretrained
    from verikit.rm.convention import ensure_tag_token, resolve_convention

    tokenizer = load_pretrained(AutoTokenizer, base)
    model = load_pretrained(AutoModelForCausalLM, base, dtype=weights_dtype or torch.float32)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    added = ensure_tag_token(tokenizer, model)
    return tokenizer, model, resolve_convention(tokenizer), added


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


def checkpointing_arguments(enabled: bool) -> dict:
    """TrainingArguments' activation (gradient) checkpointing, under whichever name this transformers has."""
    import dataclasses

    from transformers import TrainingArguments

    if not enabled:
        return {}
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    name = "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
    return {name: True, f"{name}_kwargs": {"use_reentrant": False}}


def with_lora(model, config: PRMConfig):
    """``model`` with LoRA adapters on every linear layer but the output one (the ``+``/``-`` logits read it
    frozen); only the adapters train."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise VerikitError("lora_rank > 0 needs peft: pip install 'verikit[lora]'") from exc
    adapted = get_peft_model(model, LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha,
                                               lora_dropout=config.lora_dropout, target_modules="all-linear",
                                               task_type="CAUSAL_LM"))
    if config.gradient_checkpointing:
        adapted.enable_input_require_grads()  # frozen embeddings would otherwise cut the checkpointed graph
    return adapted


def train_reward_model(config: PRMConfig, data: str | Path | ExampleSet, out: str | Path, progress: bool = True,
                       callbacks: list | None = None) -> dict:
    """Train a PRM or ORM on ``data`` (annotation folder, Math-Shepherd or TRL JSONL) into ``out``.

    Resumes from ``out/checkpoints`` when a previous run with the same config was killed. Returns the
    summary written to ``out/verikit_rm.json``.
    """
    import torch
    from transformers import TrainingArguments, set_seed

    from verikit.models import require_model

    # validated before anything is written: the examples (labels in [0, 1]) and the base model's folder
    examples = data if isinstance(data, ExampleSet) else load_examples(data, config.objective, config.labels)
    if not examples.examples:
        raise DataError(f"no usable training examples in {data} (skipped: {examples.skipped})")
    require_model(config.base)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoints = out / "checkpoints"
    state_file = checkpoints / "verikit_config.json"
    wanted = config.model_dump()
    if state_file.exists() and json.loads(state_file.read_text()) != wanted:
        raise ValueError(f"{checkpoints} holds checkpoints of another configuration; use a new --out or delete them")
    checkpoints.mkdir(exist_ok=True)
    state_file.write_text(json.dumps(wanted, indent=2))

    set_seed(config.seed)
    precision = resolve_precision(config.precision)
    tokenizer, model, convention, added = load_base(config.base, weights_dtype(precision, bool(config.lora_rank)))
    from verikit.rm.surgery import grow_depth, untie_embeddings

    untied = untie_embeddings(model) if config.untie_embeddings else False
    grow_depth(model, config.extra_layers)
    if config.lora_rank:
        model = with_lora(model, config)
    rows = [tokenize_example(e, tokenizer, convention, config.max_length, lm_loss=config.lm_loss_weight > 0)
            for e in examples.examples]
    dropped = sum(row.pop("dropped_tags") for row in rows)
    on_gpu = torch.cuda.is_available()
    total_steps = math.ceil(math.ceil(len(rows) / config.batch_size) / config.gradient_accumulation_steps * config.epochs)
    args = TrainingArguments(
        output_dir=str(checkpoints),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        **schedule_arguments(config.learning_rate, config.min_learning_rate),
        warmup_steps=max(1, int(config.warmup_ratio * total_steps)),
        weight_decay=config.weight_decay,
        logging_steps=10,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=1,
        report_to=[],
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=0,
        disable_tqdm=not progress,
        use_cpu=not on_gpu,
        bf16=precision == "bf16-mixed",
        fp16=precision == "fp16-mixed",
        remove_unused_columns=False,
        **checkpointing_arguments(config.gradient_checkpointing),
    )
    trainer = PRMTrainer(model=model, args=args, train_dataset=_Rows(rows), data_collator=collate(tokenizer.pad_token_id),
                               good_id=convention.good_id, bad_id=convention.bad_id, lm_loss_weight=config.lm_loss_weight,
                               callbacks=callbacks)
    resume = any(checkpoints.glob("checkpoint-*"))
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    if trainer.args.world_size > 1:
        # every process takes part: FSDP and ZeRO-3 gather the sharded weights for the main process to write
        trainer.save_model(str(out))
        if not trainer.is_world_process_zero():
            return {}
    else:
        if config.lora_rank:
            model = model.merge_and_unload()  # a plain causal LM again: every scorer reads it as it reads any PRM
        model.to(getattr(torch, config.save_dtype)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    summary = {
        "precision": precision,
        "kind": config.objective,
        "labels": config.labels if config.objective == "prm" else "final-correctness",
        "config": wanted,
        "convention": convention.to_dict(),
        "tag_token_added": added,
        "embeddings_untied": untied,
        "examples": len(rows),
        "trained_tags": sum(sum(1 for t in row["tag_targets"] if t != IGNORE) for row in rows),
        "tags_dropped_by_truncation": dropped,
        "skipped_records": examples.skipped,
        "resumed": resume,
        "train_seconds": round(time.perf_counter() - started, 1),
        "train_loss": result.training_loss,
        "global_step": trainer.state.global_step,
        "log_history": trainer.state.log_history,
    }
    (out / RM_MANIFEST).write_text(json.dumps(summary, indent=2))
    shutil.rmtree(checkpoints, ignore_errors=True)
    return summary
