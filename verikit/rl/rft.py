"""Rejection-sampling fine-tuning (RFT), the paper's Table 2 baseline: sample K solutions per training
problem, keep the distinct ones the checker accepts, fine-tune the policy on them (LM loss on the
solution tokens only) with :mod:`verikit.sft`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def rejection_samples(
    completer,
    problems: Sequence,
    domain,
    checker,
    k: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 160,
    seed: int = 0,
) -> list[tuple[str, str]]:
    """``(prompt, solution)`` pairs: the distinct correct samples of each problem."""
    prompts = [domain.prompt(p) for p in problems]
    samples = completer.complete(prompts, n=k, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed)
    pairs = []
    for problem, prompt, texts in zip(problems, prompts, samples):
        for text in dict.fromkeys(t.rstrip() for t in texts):
            if text and checker.is_correct(text, problem.gold_answer):
                pairs.append((prompt, text))
    return pairs


def supervised_finetune(
    model: str,
    pairs: Sequence[tuple[str, str]],
    out: str | Path,
    epochs: float = 1.0,
    learning_rate: float = 1e-4,
    batch_size: int = 32,
    max_length: int = 512,
    seed: int = 0,
    progress: bool = True,
    min_learning_rate: float = 0.0,
) -> Path:
    """Fine-tune ``model`` on the pairs (loss on solution tokens, EOS included) with :func:`verikit.sft.finetune`."""
    from verikit.sft import SFTSettings, finetune

    if not pairs:
        raise ValueError("no correct samples to fine-tune on")
    settings = SFTSettings(
        learning_rate=learning_rate,
        min_learning_rate=min_learning_rate,
        epochs=epochs,
        batch_size=batch_size,
        max_length=max_length,
        seed=seed,
        warmup_ratio=0.0,
    )
    finetune(settings, model, pairs, out, progress=progress)
    return Path(out)
