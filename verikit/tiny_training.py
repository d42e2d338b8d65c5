"""A tiny causal LM trained from scratch on a domain's worked solutions, on a CPU, in about a minute.

:func:`verikit.tiny_models.build_tiny_causal_lm` writes a random model: plumbing only. A plugin author who wants to
see the whole pipeline *work* on a new domain (annotation that finds good and bad steps, reward models with
something to learn, a best-of-N table that is not all zeros) needs a generator that has learnt the domain a
little. :func:`train_tiny_causal_lm` is that: a ~1M-parameter ``LlamaForCausalLM`` and a byte-level BPE fitted on
``(prompt, solution)`` pairs, the loss on the solution tokens only (supervised fine-tuning from scratch), so the
model writes solutions in the domain's layout and gets some of them right. The miniature's arithmetic generator is
trained the same way (the arith plugin's ``training`` module), with the schedule branching that the demo needs on top.

Written here rather than with ``transformers.Trainer`` because it is a dozen lines of loop, runs in-process in a
plugin's model provider, and a Trainer brings checkpoint folders and logging a one-minute job does not want.

    from verikit.tiny_training import train_tiny_causal_lm

    folder = train_tiny_causal_lm("models/divisible", [(prompt, solution), ...], steps=600)

The folder is reused while the examples and settings stay the same (their hash is in ``tiny_lm.json``), and
rebuilt when they change.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST = "tiny_lm.json"


@dataclass(frozen=True)
class TinyLMSettings:
    """Size and schedule. The defaults learn a short, regular domain (a few hundred solution layouts) on 2 cores."""

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    vocab_size: int = 400  # the BPE's size: small domains need few tokens
    steps: int = 600
    batch_size: int = 32
    learning_rate: float = 3e-3
    warmup_steps: int = 30
    seed: int = 0


def train_tiny_causal_lm(
    out: str | Path,
    examples: Iterable[tuple[str, str]],
    settings: TinyLMSettings | None = None,
    progress: bool = True,
    **overrides,
) -> Path:
    """Train a tiny ``LlamaForCausalLM`` on ``(prompt, solution)`` pairs into ``out`` and return ``out``.

    ``prompt`` is what the generator will be given (the domain's prompt of the problem), ``solution`` what it
    should write after it (the end-of-sequence token is appended). ``overrides`` replace fields of ``settings``.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from verikit.tiny_models import _trained_bpe

    settings = settings or TinyLMSettings()
    if overrides:
        settings = TinyLMSettings(**{**asdict(settings), **overrides})
    pairs = [(str(prompt), str(solution)) for prompt, solution in examples]
    if not pairs:
        raise ValueError("train_tiny_causal_lm needs at least one (prompt, solution) pair")
    out = Path(out)
    key = hashlib.sha256(json.dumps([asdict(settings), pairs]).encode()).hexdigest()[:16]
    manifest = out / MANIFEST
    if manifest.exists() and json.loads(manifest.read_text()).get("key") == key and (out / "config.json").exists():
        return out

    tokenizer = _trained_bpe([p + s for p, s in pairs], settings.vocab_size)
    rows = []
    for prompt, solution in pairs:
        prompt_ids = tokenizer(prompt).input_ids  # with <s>, exactly as a completer encodes its prompt
        solution_ids = tokenizer(solution, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        rows.append((prompt_ids + solution_ids, [-100] * len(prompt_ids) + solution_ids))
    longest = max(len(ids) for ids, _ in rows)

    torch.manual_seed(settings.seed)
    model = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=settings.hidden_size,
            intermediate_size=int(settings.hidden_size * 2.75),
            num_hidden_layers=settings.num_layers,
            num_attention_heads=settings.num_heads,
            num_key_value_heads=settings.num_heads,
            max_position_embeddings=max(512, 2 * longest),
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            tie_word_embeddings=True,
        )
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.0)

    def rate(step: int) -> float:  # linear warm-up, cosine decay to zero: the last steps settle the model
        if step < settings.warmup_steps:
            return (step + 1) / settings.warmup_steps
        done = (step - settings.warmup_steps) / max(1, settings.steps - settings.warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, done)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    order = random.Random(settings.seed)
    model.train()
    from tqdm.auto import tqdm

    bar = tqdm(range(settings.steps), desc="tiny LM", disable=not progress)
    losses = []
    for _ in bar:
        batch = [rows[order.randrange(len(rows))] for _ in range(settings.batch_size)]
        width = max(len(ids) for ids, _ in batch)
        pad = tokenizer.pad_token_id
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    tail = losses[-max(1, len(losses) // 10) :]
    manifest.write_text(
        json.dumps(
            {"key": key, "settings": asdict(settings), "examples": len(pairs), "final_loss": sum(tail) / len(tail)},
            indent=1,
        )
        + "\n"
    )
    return out
