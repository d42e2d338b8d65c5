"""Training the miniature generator from scratch: a ~1M-parameter ``LlamaForCausalLM`` on arith solutions.

Supervised fine-tuning with ``transformers.Trainer`` (the loss covers the solution only, not the
prompt). A fraction of the training solutions carry one realistic mistake (:mod:`verikit_arith.mistakes`),
so that sampled solutions fail at varied steps and best-of-N has something to choose from. The schedule
is a fixed number of steps with warm-up and cosine decay: a checkpoint taken before the learning rate
has decayed is far worse, so every preset gets its own full schedule rather than a time cut-off.

Trained models are cached under ``$VERIKIT_CACHE/arith/<preset>-<hash of the config>/`` and reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from verikit.paths import cache_dir

from verikit_arith.mistakes import solution_with_mistake
from verikit_arith.presets import get_preset
from verikit_arith.problems import PROMPT_TEMPLATE, canonical_steps, question_text, training_expressions
from verikit_arith.tokenizer import build_tokenizer

CACHE_VERSION = 2


@dataclass
class GeneratorConfig:
    """Model size and training schedule of the miniature generator (``help`` says what each field does)."""

    preset: str = field(default="arith-easy", metadata={"help": "Problem preset the generator is trained on."})
    hidden_size: int = field(default=128, metadata={"help": "Model width."})
    num_layers: int = field(default=4, metadata={"help": "Transformer blocks."})
    num_heads: int = field(default=4, metadata={"help": "Attention heads."})
    intermediate_size: int = field(default=352, metadata={"help": "MLP width."})
    max_length: int = field(default=384, metadata={"help": "Longest training sequence in tokens."})
    max_steps: int = field(default=600, metadata={"help": "Optimiser steps (the whole schedule)."})
    batch_size: int = field(default=64, metadata={"help": "Sequences per step."})
    learning_rate: float = field(default=2e-3, metadata={"help": "Peak learning rate."})
    warmup_ratio: float = field(default=0.05, metadata={"help": "Fraction of steps spent warming up."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    mistake_rate: float = field(default=0.2, metadata={"help": "Fraction of training solutions with one mistake."})
    seed: int = field(default=0, metadata={"help": "Seed of the data stream and the initialisation."})

    def key(self) -> str:
        payload = {"config": dataclasses.asdict(self), "preset": get_preset(self.preset).model_dump(), "version": CACHE_VERSION}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


#: The miniature's two models per preset, each with its own fixed-budget schedule (2 CPU cores):
#:
#: * ``policy`` — the model whose solutions best-of-N and RL work on: mid-regime on purpose, with a
#:   wide gap between majority vote and pass@n, so verification has something to win.
#: * ``completer`` — the paper's generator/completer (its LLemma-7B fine-tuned on MetaMath): the same
#:   architecture trained longer. It samples the solutions that get annotated, rolls out from their
#:   steps, and is the base the reward models start from — a verifier not weaker than the policy.
ROLES = ("policy", "completer")
PRESET_CONFIGS: dict[tuple[str, str], GeneratorConfig] = {
    ("arith-easy", "policy"): GeneratorConfig(preset="arith-easy", max_steps=600, max_length=128),
    ("arith-easy", "completer"): GeneratorConfig(preset="arith-easy", max_steps=800, max_length=128),
    ("arith-hard", "policy"): GeneratorConfig(preset="arith-hard", max_steps=500, batch_size=32, max_length=192),
    ("arith-hard", "completer"): GeneratorConfig(preset="arith-hard", max_steps=1000, batch_size=32, max_length=192),
}


def default_config(preset: str, role: str = "policy") -> GeneratorConfig:
    get_preset(preset)  # unknown preset → clear error
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return PRESET_CONFIGS.get((preset, role)) or GeneratorConfig(preset=preset)


def training_texts(config: GeneratorConfig, count: int) -> list[tuple[str, str]]:
    """``count`` (prompt, solution) pairs; ``mistake_rate`` of them carry one mistake."""
    rng = random.Random(f"mistakes:{config.seed}")
    pairs = []
    for expression in training_expressions(config.preset, seed=config.seed):
        if len(pairs) >= count:
            break
        steps = canonical_steps(expression)
        if rng.random() < config.mistake_rate:
            steps, _ = solution_with_mistake(expression, rng)
        pairs.append((PROMPT_TEMPLATE.format(question=question_text(expression)), "\n".join(steps)))
    return pairs


class _SolutionDataset:
    """Tokenised (prompt, solution) pairs; labels are -100 on the prompt so only the solution is learnt."""

    def __init__(self, pairs, tokenizer, max_length: int):
        self.rows = []
        for prompt, solution in pairs:
            prompt_ids = tokenizer(prompt)["input_ids"]
            solution_ids = tokenizer(solution, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            ids = (prompt_ids + solution_ids)[:max_length]
            labels = ([-100] * len(prompt_ids) + solution_ids)[:max_length]
            self.rows.append((ids, labels))

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        ids, labels = self.rows[index]
        return {"input_ids": ids, "labels": labels}


def _collate(pad_id: int):
    import torch

    def collate(rows):
        width = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        labels = torch.full((len(rows), width), -100, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            ids[i, :n] = torch.tensor(row["input_ids"])
            labels[i, :n] = torch.tensor(row["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return collate


def build_model(config: GeneratorConfig, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    model_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=config.intermediate_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_heads,
        max_position_embeddings=max(512, config.max_length),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(model_config)


def train(config: GeneratorConfig, out_dir: str | Path, progress: bool = True) -> dict:
    """Train a generator from scratch into ``out_dir``; returns the training summary (also saved there)."""
    import torch
    from transformers import Trainer, TrainingArguments, set_seed

    out_dir = Path(out_dir)
    set_seed(config.seed)
    tokenizer = build_tokenizer()
    model = build_model(config, tokenizer)
    started = time.perf_counter()
    pairs = training_texts(config, config.max_steps * config.batch_size)
    dataset = _SolutionDataset(pairs, tokenizer, config.max_length)
    args = TrainingArguments(
        output_dir=str(out_dir / "trainer"),
        per_device_train_batch_size=config.batch_size,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=max(1, int(config.warmup_ratio * config.max_steps)),
        weight_decay=config.weight_decay,
        logging_steps=max(1, config.max_steps // 20),
        save_strategy="no",
        report_to=[],
        seed=config.seed,
        data_seed=config.seed,
        dataloader_num_workers=0,
        disable_tqdm=not progress,
        use_cpu=not torch.cuda.is_available(),
        remove_unused_columns=False,
        adam_beta2=0.95,  # the usual choice for small transformers; 0.999 trains slower here
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset, data_collator=_collate(tokenizer.pad_token_id))
    result = trainer.train()
    seconds = time.perf_counter() - started
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    shutil.rmtree(out_dir / "trainer", ignore_errors=True)
    summary = {
        "config": dataclasses.asdict(config),
        "key": config.key(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(seconds, 1),
        "train_loss": result.training_loss,
        "train_examples": len(dataset),
        "log_history": trainer.state.log_history,
    }
    (out_dir / "verikit_generator.json").write_text(json.dumps(summary, indent=2))
    return summary


def train_generator(preset: str = "arith-easy", out: str | Path | None = None, config: GeneratorConfig | None = None,
                    force: bool = False, progress: bool = True, role: str = "policy") -> Path:
    """A trained generator for ``preset``: from the cache when one with the same config exists, else trained now.

    With ``out``, the model is also copied there. Returns the folder to ``from_pretrained``.
    """
    config = config or default_config(preset, role)
    cached = cache_dir() / "arith" / f"{config.preset}-{config.key()}"
    if force and cached.exists():
        shutil.rmtree(cached)
    if not (cached / "verikit_generator.json").exists():
        partial = cached.with_name(cached.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        train(config, partial, progress=progress)
        shutil.rmtree(cached, ignore_errors=True)
        partial.rename(cached)  # atomic: a killed run never leaves a half-written model in the cache
    if out is not None:
        out = Path(out)
        if out.resolve() != cached.resolve():
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(cached, out)
        return out
    return cached
