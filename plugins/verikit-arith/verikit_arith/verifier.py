"""The miniature's verifier base: the completer, two layers deeper, trained on to notice its own slips.

Math-Shepherd's reward models start from bases (LLaMA2-70B, LLemma-34B, Mistral-7B) far stronger than a
generator's fine-tune, pre-trained on text where mistakes are noticed and corrected. The miniature's completer has
never read such text: its training solutions carry slips but go on from the wrong state as if nothing happened,
so nothing in it ever needed to tell a wrong step from a right one, and a PRM fine-tuned from it learns which
problems are hard instead (docs/studies/reward-models.md, issue 35). This module gives the miniature's reward
models a base of the paper's kind — a verifier base trained deeper and on more of the domain's text — and changes
nothing in how they are trained (the paper's tag head on the demo's hard MC labels):

* **deeper**: two decoder layers appended to the completer, each starting as the identity
  (:func:`verikit.rm.surgery.grow_depth`). Whether a written token was the likely one is known only in the *final*
  layer of the position before it, which no later position reads in the completer's own depth; the new layers can.
* **the domain's checked text**: worked solutions in which each step (and the answer line) is, with probability
  ``caught_rate``, first written wrong — a mistake of the domain's mistake model (:mod:`verikit_arith.mistakes`: a
  slip, an operation out of order, a wrong operand) or a slipped answer — then marked `` wrong`` and written again
  correctly. Predicting the marker is noticing the step's error. The text holds no ``+``/``-`` and no policy
  sample: the base learns to notice the domain's mistakes, not the PRM's labels.
* **in the PRM's own layout** (``layout="prm"``, the default): the question, then every line ending with the step
  tag, a caught line's marker right after its tag, as the PRM will read a solution::

      7*4-7-3=? Step 1: 7*4=28 ки
      Step 2: 28-7=20 ки wrong
      Step 2: 28-7=21 ки

  so the base says whether a step was wrong at the very position where the PRM reads its ``+``/``-``: the PRM's
  fine-tuning only has to read out what the tag's state already holds. The tag's input embedding starts as the
  newline's (the separator the completer ends a step with) and is trained from there. ``layout="generator"`` is the
  first version: the generators' layout, no tag, the marker right after the step's result, and the tag set to the
  newline's afterwards. At 800 steps that base noticed more in its own layout (dev verdict 0.946 against 0.884)
  but kept less of it in the PRM's text, and the PRM fine-tuned from it saw less (test probe 0.745 against 0.846;
  the study's section "The verdict where the PRM reads it").
* **many small steps**: 2,400 steps of 16 solutions (about 7 minutes on 2 cores). The verdict grows with optimiser
  steps more than with solutions: 1,200 steps of 64 notice as well (dev verdict 0.960 against 0.954) in twice the
  time, 1,200 of 32 or 600 of 64 at twice the rate notice less (0.912, 0.862), and freezing the completer's layers
  to halve a step's cost leaves the PRM blind (0.611; the study's "cheaper base" section).

Trained once per (preset, completer seed) under the generators' pinned CPU numerics, resumable from a checkpoint
every ``checkpoint_every`` steps when killed, and cached under
``$VERIKIT_CACHE/arith/<preset>-verifier-<hash>/`` like the generators (model provider
``arith:<preset>/verifier[?seed=N]``). The loop is written here, as the generators' is: a fixed schedule over a
streamed corpus, continuing a saved model, is a dozen lines that ``Trainer`` would not make shorter.
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

from verikit.format import STEP_TAG
from verikit.paths import cache_dir
from verikit_arith.expressions import Expression, canonical_index, reduce_at
from verikit_arith.mistakes import mistaken_step, slipped_answer
from verikit_arith.problems import PROMPT_TEMPLATE, answer_text, question_text, step_text, training_expressions

#: what follows a step that the checked text catches as wrong (on the step's own line)
CAUGHT_MARKER = " wrong"
LAYOUTS = ("prm", "generator")
VERIFIER_VERSION = 1


@dataclass
class VerifierConfig:
    """How the verifier base is made from a completer (``help`` says what each field does)."""

    preset: str = field(default="arith-easy", metadata={"help": "Problem preset of the checked text."})
    extra_layers: int = field(default=2, metadata={"help": "Identity-initialised decoder layers appended."})
    steps: int = field(default=2400, metadata={"help": "Optimiser steps on the checked text."})
    batch_size: int = field(default=16, metadata={"help": "Solutions per step."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Peak learning rate (cosine decay to zero)."})
    warmup_steps: int = field(default=20, metadata={"help": "Steps of linear warm-up."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    caught_rate: float = field(default=0.3, metadata={"help": "Chance that a step is first written wrong and caught."})
    max_length: int = field(
        default=128, metadata={"help": "Longest training sequence in tokens (a longer one loses its last lines)."}
    )
    layout: str = field(
        default="prm",
        metadata={
            "help": "prm: the checked text in the PRM's own layout (each line ends with the step tag, a caught line's "
            "marker after it); generator: the generators' layout, no tag (the marker right after the result)."
        },
    )
    seed: int = field(default=0, metadata={"help": "Seed of the checked text's stream and of the training."})
    checkpoint_every: int = field(default=100, metadata={"help": "Steps between two resumable checkpoints."})

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown checked-text layout {self.layout!r}; choose one of {', '.join(LAYOUTS)}")

    def learning_rate_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.learning_rate * (step + 1) / self.warmup_steps
        progress = (step - self.warmup_steps) / max(1, self.steps - self.warmup_steps)
        return self.learning_rate * 0.5 * (1 + math.cos(math.pi * progress))

    def key(self, completer_key: str) -> str:
        config = {k: v for k, v in dataclasses.asdict(self).items() if k != "checkpoint_every"}  # not in the result
        payload = {"config": config, "completer": completer_key, "version": VERIFIER_VERSION}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def checked_solution(expression: Expression, rng: random.Random, caught_rate: float) -> list[str]:
    """The reference solution's lines, each first written wrong and caught (marked, then redone) with probability
    ``caught_rate``."""
    lines: list[str] = []
    state, number = expression, 1
    while len(state) > 1:
        index = canonical_index(state)
        if rng.random() < caught_rate and (wrong := mistaken_step(state, index, rng)) is not None:
            lines.append(step_text(number, *wrong) + CAUGHT_MARKER)
        reduced, value = reduce_at(state, index)
        lines.append(step_text(number, state[index - 1], state[index], state[index + 1], int(value)))
        state, number = reduced, number + 1
    answer = int(state[0])
    if rng.random() < caught_rate:
        lines.append(answer_text(slipped_answer(answer, rng)) + CAUGHT_MARKER)
    lines.append(answer_text(answer))
    return lines


def checked_text(question: str, lines: list[str], layout: str) -> tuple[str, str]:
    """(prompt, solution) of a checked solution in ``layout``: the generators' (``question\\n``, lines) or the
    PRM's (``question ``, each line ending with `` ки``, a caught line's marker after its tag — so the base says
    whether a step was wrong at the very position where the PRM will read its verdict)."""
    if layout == "generator":
        return PROMPT_TEMPLATE.format(question=question), "\n".join(lines)
    tagged = [
        f"{line.removesuffix(CAUGHT_MARKER)} {STEP_TAG}{CAUGHT_MARKER if line.endswith(CAUGHT_MARKER) else ''}"
        for line in lines
    ]
    return f"{question} ", "\n".join(tagged)


def checked_texts(config: VerifierConfig, count: int) -> list[tuple[str, str]]:
    """``count`` (prompt, checked solution) pairs from the preset's training stream (never a dev or test problem)."""
    rng = random.Random(f"checked:{config.seed}")
    pairs = []
    for expression in training_expressions(config.preset, seed=10_000 + config.seed):
        if len(pairs) >= count:
            break
        lines = checked_solution(expression, rng, config.caught_rate)
        pairs.append(checked_text(question_text(expression), lines, config.layout))
    return pairs


def start_tag_as_newline(model, tokenizer, tag: str = "ки") -> None:
    """Set the step tag's input embedding to the newline's (see the module docstring)."""
    import torch

    tag_id, newline_id = tokenizer.convert_tokens_to_ids(tag), tokenizer.convert_tokens_to_ids("\n")
    with torch.no_grad():
        embeddings = model.get_input_embeddings().weight
        embeddings[tag_id] = embeddings[newline_id]


def train_verifier(config: VerifierConfig, completer: str | Path, out_dir: str | Path, progress: bool = True) -> dict:
    """Make the verifier base from ``completer`` into ``out_dir``; returns the summary (also saved)."""
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    from verikit.rm.surgery import grow_depth
    from verikit_arith.training import (
        _collate,
        _SolutionDataset,
        load_state,
        make_optimizer,
        optimiser_step,
        save_state,
    )

    set_seed(config.seed)
    out_dir = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(completer)
    model = AutoModelForCausalLM.from_pretrained(completer)
    depth = grow_depth(model, config.extra_layers)
    if config.layout == "prm":  # the tag is in the text: it starts as the newline and is trained from there
        start_tag_as_newline(model, tokenizer)
    optimizer = make_optimizer(model, config.learning_rate, config.weight_decay)
    checkpoint = out_dir / "checkpoint.pt"
    # a killed run goes on from its last checkpoint: the data is indexed by step, so it is the same run as one never
    # stopped
    start = load_state(checkpoint, model, optimizer) if checkpoint.exists() else 0
    dataset = _SolutionDataset(checked_texts(config, config.steps * config.batch_size), tokenizer, config.max_length)
    collate = _collate(tokenizer.pad_token_id)
    started, losses = time.perf_counter(), []
    model.train()
    bar = tqdm(
        total=config.steps, initial=start, desc=f"verifier base {config.preset}", unit="step", disable=not progress
    )
    for step in range(start, config.steps):
        if step > start and step % config.checkpoint_every == 0:
            save_state(checkpoint, model, optimizer, step)
        offset = step * config.batch_size
        batch = collate([dataset[i] for i in range(offset, offset + config.batch_size)])
        losses.append(optimiser_step(model, optimizer, batch, config.learning_rate_at(step)))
        bar.update(1)
    bar.close()
    if config.layout == "generator":  # the tag was never read: it starts as the newline in the PRM's fine-tuning
        start_tag_as_newline(model, tokenizer)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    summary = {
        "config": dataclasses.asdict(config),
        "completer": str(completer),
        "layers": depth,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(time.perf_counter() - started, 1),
        "resumed_from_step": start or None,
        "train_loss": sum(losses[-50:]) / len(losses[-50:]) if losses else None,  # the last 50 steps' mean
    }
    (out_dir / "verikit_verifier.json").write_text(json.dumps(summary, indent=2))
    checkpoint.unlink(missing_ok=True)
    return summary


def train_verifier_from_request(request: dict) -> None:
    """:func:`train_verifier` from :func:`verikit_arith.training.run_pinned`'s JSON request."""
    train_verifier(VerifierConfig(**request["config"]), request["completer"], request["out"], request["progress"])


#: the checked text's longest sequence per preset, where the default does not hold it: arith-hard's lines are longer
#: and more (4-6 steps, two-digit operands), and at 128 tokens 25.6% of its checked texts lost their last lines —
#: the late steps and the answer the base is there to check (40,000 texts: longest 233 tokens). arith-easy keeps 128,
#: at which 1.7% of its texts (longest 166) lose a line: changing it would retrain the demo's base
#: (tests/test_verifier.py measures both).
MAX_LENGTH = {"arith-hard": 256}


def default_verifier_config(preset: str, seed: int = 0) -> VerifierConfig:
    """The verifier base's settings for ``preset`` at generator seed ``seed``."""
    return VerifierConfig(
        preset=preset, seed=seed, **({"max_length": MAX_LENGTH[preset]} if preset in MAX_LENGTH else {})
    )


def verifier_base(preset: str = "arith-easy", seed: int = 0, progress: bool = True) -> Path:
    """The verifier base of ``preset``'s completer at generator seed ``seed``: cached, or made now (the completer
    too, if it is not cached)."""
    from verikit_arith.training import default_config, run_pinned, train_generator

    completer_config = dataclasses.replace(default_config(preset, "completer"), seed=seed)
    completer = train_generator(preset, role="completer", config=completer_config, progress=progress)
    config = default_verifier_config(preset, seed)
    cached = cache_dir() / "arith" / f"{preset}-verifier-{config.key(completer_config.key())}"
    if not (cached / "verikit_verifier.json").exists():
        partial = cached.with_name(cached.name + ".partial")  # kept across a kill: it holds the checkpoint
        partial.mkdir(parents=True, exist_ok=True)
        request = {"config": dataclasses.asdict(config), "completer": str(completer), "out": str(partial)}
        run_pinned(
            "verikit_arith.verifier:train_verifier_from_request",
            {**request, "progress": progress},
            f"making the {preset} verifier base",
        )
        shutil.rmtree(cached, ignore_errors=True)
        partial.rename(cached)  # atomic: a killed run never leaves a half-made base in the cache
    return cached
