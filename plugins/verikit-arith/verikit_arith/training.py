"""Training the miniature generator from scratch: a ~1M-parameter ``LlamaForCausalLM`` on arith solutions.

Supervised fine-tuning (the loss covers the solution only, not the prompt). A fraction of the training
solutions carry one realistic mistake (:mod:`verikit_arith.mistakes`), so that sampled solutions fail at
varied steps and best-of-N has something to choose from. A checkpoint taken while the learning rate is
still high is far worse than one whose learning rate has decayed, so every model gets a full schedule of
its own rather than a time cut-off.

Two schedules: ``cosine`` (warm-up, cosine decay to zero) and ``wsd`` (warm-up, a constant stable phase,
then ``decay_steps`` of linear decay to zero). Under ``wsd`` two configs that differ only in their length
share the stable phase: the run with the earlier decay saves the model and optimizer at the end of its
stable phase ("trunk"), and a longer run continues from that trunk instead of repeating it. The
miniature's policy and completer are such a pair (:data:`PRESET_CONFIGS`): on arith-easy the policy
branches off the completer's run after 200 steps and decays for 100; the completer goes on to 450 + 150. That is one
run's worth of compute for two
models, which is what makes the demo fit in minutes. (At a seed that learns later the policy branches later, chosen
on the dev split: :mod:`verikit_arith.policy`.) The loop is written here rather than with
``transformers.Trainer`` because branching needs the optimizer state and the data position at an
arbitrary step and a schedule that changes after it.

Trained models are cached under ``$VERIKIT_CACHE/arith/<preset>-<hash of the config>/`` (trunks under
``$VERIKIT_CACHE/arith/trunks/``) and reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
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

CACHE_VERSION = 4  # 3: the tokenizer's word tokens and the hand-written loop; 4: trained under pinned CPU numerics

#: The miniature's generators are trained in a child process whose kernels are pinned to AVX2 (PyTorch's own
#: vectorised kernels, ATEN_CPU_CAPABILITY) and to MKL's conditional-numerical-reproducibility AVX2 path (MKL_CBWR).
#: Measured here (benchmarks/generator_numerics.py): the same seed gives bit-identical weights at 1 and 2 threads and
#: from run to run, but other weights under PyTorch's AVX-512, AVX2 or default kernels and under MKL's native or
#: compatible path - which is why machines with other CPUs trained other generators (greedy 33.2 to 39.8 at one seed).
#: Pinned, every x86-64 machine with AVX2 computes what this one does, at the same speed here.
PINNED_CPU_NUMERICS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}


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
    warmup_steps: int = field(default=30, metadata={"help": "Steps of linear warm-up to the peak learning rate."})
    schedule: str = field(
        default="cosine",
        metadata={
            "help": "cosine (decay over the whole run) or wsd (warm-up, stable, then decay_steps of linear decay)."
        },
    )
    decay_steps: int = field(default=0, metadata={"help": "wsd only: the final steps over which the rate decays to 0."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    mistake_rate: float = field(default=0.2, metadata={"help": "Fraction of training solutions with one mistake."})
    seed: int = field(default=0, metadata={"help": "Seed of the data stream and the initialisation."})

    def __post_init__(self):
        if self.schedule not in ("cosine", "wsd"):
            raise ValueError(f"unknown schedule {self.schedule!r}; choose cosine or wsd")
        if self.schedule == "wsd" and not self.warmup_steps <= self.max_steps - self.decay_steps <= self.max_steps:
            raise ValueError(
                f"wsd needs warmup_steps <= max_steps - decay_steps <= max_steps, got "
                f"{self.warmup_steps}, {self.max_steps}, {self.decay_steps}"
            )

    def key(self) -> str:
        return _digest(dataclasses.asdict(self), self.preset)

    @property
    def stable_end(self) -> int:
        """wsd: the step at which the decay starts (and the trunk is saved)."""
        return self.max_steps - self.decay_steps

    def trunk_key(self) -> str:
        """What the stable phase depends on: everything but where the run stops."""
        return _digest(
            {k: v for k, v in dataclasses.asdict(self).items() if k not in ("max_steps", "decay_steps")}, self.preset
        )

    def learning_rate_at(self, step: int) -> float:
        """The learning rate of optimiser step ``step`` (0-based)."""
        if step < self.warmup_steps:
            return self.learning_rate * (step + 1) / self.warmup_steps
        if self.schedule == "wsd":
            if step < self.stable_end:
                return self.learning_rate
            return self.learning_rate * (self.max_steps - step) / max(1, self.decay_steps)
        progress = (step - self.warmup_steps) / max(1, self.max_steps - self.warmup_steps)
        return self.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))


def _digest(config: dict, preset: str) -> str:
    payload = {"config": config, "preset": get_preset(preset).model_dump(), "version": CACHE_VERSION}
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
    # the policy branches off the completer's run: 200 shared stable steps, then its own 100-step decay
    # (dev greedy 49.5%, maj@16 47.5%, pass@16 76.0%); the completer decays after 450 (dev greedy 88.5%)
    ("arith-easy", "policy"): GeneratorConfig(
        preset="arith-easy", max_steps=300, decay_steps=100, schedule="wsd", max_length=128
    ),
    ("arith-easy", "completer"): GeneratorConfig(
        preset="arith-easy", max_steps=600, decay_steps=150, schedule="wsd", max_length=128
    ),
    # hard: 500 shared + 100 (dev greedy 55.0%, maj@16 54.5%, pass@16 83.5%); the completer 700 + 150
    ("arith-hard", "policy"): GeneratorConfig(
        preset="arith-hard", max_steps=600, decay_steps=100, schedule="wsd", max_length=160
    ),
    ("arith-hard", "completer"): GeneratorConfig(
        preset="arith-hard", max_steps=850, decay_steps=150, schedule="wsd", max_length=160
    ),
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
        pairs = list(pairs)
        if not pairs:
            return
        # one call per side: the tokenizer batches in Rust (same ids as a call per text, several times faster)
        prompts = tokenizer([prompt for prompt, _ in pairs])["input_ids"]
        solutions = tokenizer([solution for _, solution in pairs], add_special_tokens=False)["input_ids"]
        for prompt_ids, solution_ids in zip(prompts, solutions, strict=True):
            solution_ids = solution_ids + [tokenizer.eos_token_id]
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


def make_optimizer(model, learning_rate: float, weight_decay: float):
    """AdamW as the miniature's models are trained: no weight decay on norms (as Trainer does), beta2 0.95 (0.999
    trains slower here)."""
    import torch

    decayed = [p for p in model.parameters() if p.ndim >= 2]
    return torch.optim.AdamW(
        [
            {"params": decayed, "weight_decay": weight_decay},
            {"params": [p for p in model.parameters() if p.ndim < 2], "weight_decay": 0.0},
        ],
        lr=learning_rate,
        betas=(0.9, 0.95),
    )


def _trunk_dir(config: GeneratorConfig) -> Path:
    return cache_dir() / "arith" / "trunks" / f"{config.preset}-{config.trunk_key()}"


def _latest_trunk(config: GeneratorConfig) -> tuple[int, Path] | None:
    """The saved trunk with the most steps that this run can continue from (at most its stable phase)."""
    if config.schedule != "wsd" or not _trunk_dir(config).is_dir():
        return None
    saved = sorted((int(p.stem.split("-")[1]), p) for p in _trunk_dir(config).glob("step-*.pt"))
    usable = [(step, path) for step, path in saved if step <= config.stable_end]
    return usable[-1] if usable else None


def save_state(path: Path, model, optimizer, step: int) -> None:
    """Model, optimizer and step to ``path``, atomically: a run killed while saving leaves the previous file."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, partial)
    partial.replace(path)


def load_state(path: Path, model, optimizer) -> int:
    """Restore what :func:`save_state` wrote into ``model`` and ``optimizer``; the step it was saved at."""
    import torch

    state = torch.load(path, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return state["step"]


def optimiser_step(model, optimizer, batch: dict, learning_rate: float) -> float:
    """One step of the miniature's training at ``learning_rate`` (gradients clipped to norm 1); the batch's loss."""
    import torch

    for group in optimizer.param_groups:
        group["lr"] = learning_rate
    loss = model(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


def _save_trunk(config: GeneratorConfig, step: int, model, optimizer) -> None:
    save_state(_trunk_dir(config) / f"step-{step}.pt", model, optimizer, step)


def _branch_points(config: GeneratorConfig) -> set[int]:
    """Steps of this run's stable phase where it saves its trunk: its own decay start, and that of every
    preset config sharing its trunk and every rung its policy may branch at (so whichever of a policy/completer pair
    trains first, the other reuses it)."""
    from verikit_arith.policy import POLICY_LADDER

    if config.schedule != "wsd":
        return set()
    # at the run's own seed: a seed-2 policy and completer share their trunk as seed 0's do
    siblings = [dataclasses.replace(c, seed=config.seed) for c in PRESET_CONFIGS.values() if c.schedule == "wsd"]
    siblings = [c for c in siblings if c.trunk_key() == config.trunk_key()]
    rungs = set(POLICY_LADDER.get(config.preset, ())) if siblings else set()
    return {c.stable_end for c in [config, *siblings] if c.stable_end <= config.stable_end} | {
        rung for rung in rungs if rung <= config.stable_end
    }


def train(config: GeneratorConfig, out_dir: str | Path, progress: bool = True) -> dict:
    """Train a generator into ``out_dir`` (from a shared trunk when one is cached); returns the summary (also saved)."""
    from tqdm.auto import tqdm
    from transformers import set_seed

    out_dir = Path(out_dir)
    set_seed(config.seed)
    tokenizer = build_tokenizer()
    model = build_model(config, tokenizer)
    optimizer = make_optimizer(model, config.learning_rate, config.weight_decay)
    start = 0
    if (trunk := _latest_trunk(config)) is not None:
        start = load_state(trunk[1], model, optimizer)
    started = time.perf_counter()
    # the data stream is fixed by the config, so step k sees the same examples whichever run reaches it
    pairs = training_texts(config, config.max_steps * config.batch_size)
    dataset = _SolutionDataset(pairs[start * config.batch_size :], tokenizer, config.max_length)
    collate = _collate(tokenizer.pad_token_id)
    model.train()
    log_every = max(1, config.max_steps // 20)
    history, window = [], []
    bar = tqdm(
        total=config.max_steps, initial=start, desc=f"training {config.preset}", unit="step", disable=not progress
    )
    branch_points = _branch_points(config)
    for step in range(start, config.max_steps):
        if step > start and step in branch_points:
            _save_trunk(config, step, model, optimizer)
        offset = (step - start) * config.batch_size
        batch = collate([dataset[i] for i in range(offset, offset + config.batch_size)])
        window.append(optimiser_step(model, optimizer, batch, config.learning_rate_at(step)))
        if (step + 1) % log_every == 0 or step + 1 == config.max_steps:
            history.append(
                {"step": step + 1, "loss": sum(window) / len(window), "learning_rate": config.learning_rate_at(step)}
            )
            bar.set_postfix(loss=f"{history[-1]['loss']:.3f}")
            window = []
        bar.update(1)
    bar.close()
    seconds = time.perf_counter() - started
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    summary = {
        "config": dataclasses.asdict(config),
        "key": config.key(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(seconds, 1),
        "steps_run": config.max_steps - start,
        "continued_from_trunk_step": start or None,
        "train_loss": history[-1]["loss"] if history else None,  # the last logging window's mean
        "train_examples": config.max_steps * config.batch_size,
        "log_history": history,
    }
    (out_dir / "verikit_generator.json").write_text(json.dumps(summary, indent=2))
    return summary


def pinned_numerics() -> dict[str, str]:
    """The environment that pins the CPU kernels (x86-64 only: other CPUs have no AVX2 to pin to, and train with
    their own kernels)."""
    import platform

    return dict(PINNED_CPU_NUMERICS) if platform.machine().lower() in ("x86_64", "amd64") else {}


def train_with_pinned_numerics(config: GeneratorConfig, out_dir: str | Path, progress: bool = True) -> dict:
    """:func:`train` in a child process under :func:`pinned_numerics` (the kernels are chosen when torch loads, so
    the pins cannot be applied to this process); its summary."""
    run_pinned(
        "verikit_arith.training:train_from_request",
        {"config": dataclasses.asdict(config), "out": str(out_dir), "progress": progress},
        f"training the {config.preset} generator",
    )
    return json.loads((Path(out_dir) / "verikit_generator.json").read_text())


def train_from_request(request: dict) -> None:
    """:func:`train` from :func:`run_pinned`'s JSON request."""
    train(GeneratorConfig(**request["config"]), request["out"], progress=request["progress"])


def run_pinned(target: str, request: dict, what: str) -> None:
    """Call ``module:function`` with ``request`` in a child process under :func:`pinned_numerics` (the kernels are
    chosen when torch loads, so the pins cannot be applied to this process); ``what`` names it if it fails."""
    import os
    import subprocess
    import sys

    module, _, function = target.partition(":")
    script = f"import json, sys\nfrom {module} import {function}\n{function}(json.loads(sys.argv[1]))\n"
    done = subprocess.run([sys.executable, "-c", script, json.dumps(request)], env={**os.environ, **pinned_numerics()})
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}); its output is above")


def train_generator(
    preset: str = "arith-easy",
    out: str | Path | None = None,
    config: GeneratorConfig | None = None,
    force: bool = False,
    progress: bool = True,
    role: str = "policy",
) -> Path:
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
        train_with_pinned_numerics(config, partial, progress=progress)
        shutil.rmtree(cached, ignore_errors=True)
        partial.rename(cached)  # atomic: a killed run never leaves a half-written model in the cache
    if out is not None:
        out = Path(out)
        if out.resolve() != cached.resolve():
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(cached, out)
        return out
    return cached
