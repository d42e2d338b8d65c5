"""Training process and outcome reward models in the Math-Shepherd form.

verikit owns this trainer because TRL no longer ships one in its releases: ``trl.PRMTrainer`` last shipped in TRL
1.13 (a token classifier whose collator cast soft labels to integers); the installed 1.16 has none, and TRL's
source tree keeps it under ``trl/experimental/prm``. The shape follows that one: a config that holds every setting
(:class:`~verikit.rm.config.PRMConfig`, like ``trl.experimental.prm.PRMConfig``) and a ``transformers.Trainer``
subclass that only changes the loss (:class:`PRMTrainer`); the arguments, the checkpoint plan and the saving are
the same helpers as every verikit trainer's (:mod:`verikit.hf_training`). The model is a plain causal LM; at every step
tag it is asked to put ``+`` above ``-``: the loss is the cross-entropy of the two candidate logits
against the step's target — 0/1 (hard estimation) or the soft-estimation fraction used as a probability
— at tag positions only. An ORM is the same model trained on one target per solution (its final
correctness) at the last tag. ``lm_loss_weight`` optionally keeps the causal-LM loss on correct
solutions beside it (off by default, i.e. the paper's recipe): a small verifier forgets the arithmetic
it knows when fine-tuned on labels alone, and the LM term holds it in place.

Built on ``transformers.Trainer``, so ``accelerate`` places it on CUDA when present, and resumable checkpoints in
``OUT/checkpoints`` (when the disk has room for them) make a killed run resume where it stopped.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from transformers import Trainer

from verikit.errors import DataError, VerikitError
from verikit.models import RM_MANIFEST
from verikit.rm.config import PRMConfig
from verikit.rm.data import IGNORE, ExampleSet, collate, load_examples, tokenize_example, up_to_first_error


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
    return F.cross_entropy(
        shifted_logits.reshape(-1, shifted_logits.size(-1)).float(), shifted_labels.reshape(-1), ignore_index=-100
    )


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


def with_lora(model, config: PRMConfig):
    """``model`` with LoRA adapters on every linear layer but the output one (the ``+``/``-`` logits read it
    frozen); only the adapters train."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise VerikitError("lora_rank > 0 needs peft: pip install 'verikit[lora]'") from exc
    adapted = get_peft_model(
        model,
        LoraConfig(
            r=config.lora_rank,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        ),
    )
    if config.gradient_checkpointing:
        adapted.enable_input_require_grads()  # frozen embeddings would otherwise cut the checkpointed graph
    return adapted


def train_reward_model(
    config: PRMConfig,
    data: str | Path | ExampleSet,
    out: str | Path,
    progress: bool = True,
    callbacks: list | None = None,
) -> dict:
    """Train a PRM or ORM on ``data`` (annotation folder, Math-Shepherd or TRL JSONL) into ``out``.

    Resumes from ``out/checkpoints`` when a previous run with the same config was killed. Returns the
    summary written to ``out/verikit_rm.json``.
    """
    from transformers import set_seed

    from verikit.hf_training import (
        CountingCollator,
        checkpoint_plan,
        resolve_precision,
        throughput,
        train_and_save,
        training_arguments,
        weights_dtype,
    )
    from verikit.models import require_model

    # validated before anything is written: the examples (labels in [0, 1]) and the base model's folder
    examples = data if isinstance(data, ExampleSet) else load_examples(data, config.objective, config.labels)
    if not examples.examples:
        raise DataError(f"no usable training examples in {data} (skipped: {examples.skipped})")
    if config.labels_after_first_error == "drop":
        examples = dataclasses.replace(examples, examples=[up_to_first_error(e) for e in examples.examples])
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
    rows = [
        tokenize_example(e, tokenizer, convention, config.max_length, lm_loss=config.lm_loss_weight > 0)
        for e in examples.examples
    ]
    dropped = sum(row.pop("dropped_tags") for row in rows)
    plan = checkpoint_plan(model, config, out)
    args = training_arguments(config, checkpoints, len(rows), precision, progress, min_warmup_steps=1, plan=plan)
    counter = CountingCollator(collate(tokenizer.pad_token_id))
    trainer = PRMTrainer(
        model=model,
        args=args,
        train_dataset=_Rows(rows),
        data_collator=counter,
        good_id=convention.good_id,
        bad_id=convention.bad_id,
        lm_loss_weight=config.lm_loss_weight,
        callbacks=callbacks,
    )
    trained = train_and_save(trainer, model, tokenizer, config, checkpoints, out, resumable=plan["mode"] == "resumable")
    if trained is None:
        return {}
    result, resume = trained["result"], trained["resumed"]
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
        "train_seconds": trained["seconds"],
        "checkpoints": {k: v for k, v in plan.items() if k != "arguments"},
        **throughput(model, counter, trained["seconds"]),
        "train_loss": result.training_loss,
        "global_step": trainer.state.global_step,
        "log_history": trainer.state.log_history,
    }
    (out / RM_MANIFEST).write_text(json.dumps(summary, indent=2))
    shutil.rmtree(checkpoints, ignore_errors=True)
    return summary
