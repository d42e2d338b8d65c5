"""How good a generator is: greedy accuracy, majority vote over n samples (maj@n), and pass@n."""

from __future__ import annotations

import time
from pathlib import Path

from verikit.default_plugins.selectors import majority_answer
from verikit_arith.checker import ArithChecker
from verikit_arith.problems import load_split, prompt_text

MAX_NEW_TOKENS = {"arith-easy": 160, "arith-hard": 240}


def evaluate_generator(
    model: str | Path,
    preset: str = "arith-easy",
    n: int = 16,
    split: str = "test",
    limit: int | None = None,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 512,
    device: str = "auto",
    progress: bool = True,
) -> dict:
    """Greedy accuracy, ``maj@n`` and ``pass@n`` of the model on a split, with the wall time they took."""
    import verikit

    problems = load_split(preset, split, limit=limit)
    completer = verikit.completer(
        "transformers",
        model=str(model),
        batch_size=batch_size,
        device=device,
        max_new_tokens=MAX_NEW_TOKENS.get(preset, 320),
    )
    checker = ArithChecker()
    prompts = [prompt_text(p) for p in problems]
    started = time.perf_counter()
    bar = _bar(len(prompts) * 2, f"evaluating {preset}", progress)
    greedy = completer.complete(prompts, n=1, temperature=0.0, seed=seed, progress=bar.update)
    sampled = completer.complete(prompts, n=n, temperature=temperature, seed=seed + 1, progress=bar.update)
    bar.close()
    greedy_correct = sum(checker.is_correct(text[0], p.gold_answer) for p, text in zip(problems, greedy))
    judged = judge_samples(problems, sampled, checker)
    maj_correct = sum(majority_right for _, majority_right in judged)
    pass_correct = sum(any(verdicts) for verdicts, _ in judged)
    sample_correct = sum(sum(verdicts) for verdicts, _ in judged)
    count = len(problems)
    return {
        "model": str(model),
        "preset": preset,
        "split": split,
        "n": n,
        "n_problems": count,
        "temperature": temperature,
        "greedy_acc": greedy_correct / count,
        "maj_at_n": maj_correct / count,
        "pass_at_n": pass_correct / count,
        "sample_acc": sample_correct / (count * n),
        "seconds": round(time.perf_counter() - started, 1),
        "generated_tokens": completer.generated_tokens,
    }


def judge_samples(problems, sampled, checker) -> list[tuple[list[bool], bool]]:
    """Per problem: whether each of its samples has the gold answer, and whether their majority answer does."""
    judged = []
    for problem, samples in zip(problems, sampled, strict=True):
        answers = [checker.normalize(checker.extract(s)) for s in samples]
        verdicts = [checker.equivalent(a, problem.gold_answer) for a in answers]
        judged.append((verdicts, checker.equivalent(majority_answer(answers), problem.gold_answer)))
    return judged


def _bar(total: int, description: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="prompt", disable=not enabled)
