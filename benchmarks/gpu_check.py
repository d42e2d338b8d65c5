"""A GPU check of the training and scoring code, with torch + transformers only (no hub, no vLLM, no data folder).

    python -m benchmarks.gpu_check --out gpu_check.json            # CUDA, a ~130M-parameter Llama, < 8 minutes
    python -m benchmarks.gpu_check --tiny --device cpu --out x.json  # the same code paths on CPU in seconds

Builds a model locally (a byte-level BPE tokenizer trained on generated arithmetic text, a randomly initialised
Llama) and saves it in **bf16**, as hub checkpoints are, then on the device:

1. PRM training under ``precision: auto`` (bf16-mixed on a GPU): steps per second, tokens per second, peak memory,
   and the share of weights that moved at the paper's learning rate 2e-6 (fp32 master weights: close to 1);
2. one-pass scoring of 256 solutions: solutions and tokens per second, and the largest difference from scoring
   each step prefix separately (the one-pass claim, checked on the device's kernels);
3. batched sampling, verikit's buffered decoding (KV cache preallocated, each prompt encoded once for its n
   samples) against ``model.generate``: tokens per second of each;
4. one step-PPO step (bf16 autocast, fp32 master weights, bf16 reference): seconds and peak memory.

Writes every figure as JSON. Never part of CI (the CPU ``--tiny`` run is, to keep the script working).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path


def arithmetic_texts(count: int, seed: int = 0) -> list[tuple[str, list[str], list[float]]]:
    """(question, steps, targets) of running-sum problems, every third one with a slip at a random step."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        numbers = [rng.randint(2, 99) for _ in range(rng.randint(3, 6))]
        slip = rng.randrange(1, len(numbers)) if index % 3 == 0 else None
        total, steps, targets = numbers[0], [], []
        for position, number in enumerate(numbers[1:], start=1):
            result = total + number + (1 if position == slip else 0)
            steps.append(f"Step {position}: {total} + {number} = {result}")
            targets.append(0.0 if slip is not None and position >= slip else 1.0)
            total = result
        steps.append(f"The answer is {total}.")
        targets.append(0.0 if slip is not None else 1.0)
        rows.append((f"What is {' + '.join(map(str, numbers))}?", steps, targets))
    return rows


def build_model(out: Path, tiny: bool) -> Path:
    """A Llama built here and saved in bf16 (hidden 768, 12 layers: ~130M parameters; --tiny: 64, 2)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from verikit.tiny_models import build_tiny_causal_lm

    texts = [q + "\n" + "\n".join(s) for q, s, _ in arithmetic_texts(2000)]
    scratch = build_tiny_causal_lm(out / "tokenizer-source", texts, vocab_size=2000)  # trains the BPE tokenizer
    tokenizer = AutoTokenizer.from_pretrained(scratch)
    size = (
        dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4)
        if tiny
        else dict(
            hidden_size=768,
            intermediate_size=2048,
            num_hidden_layers=12,
            num_attention_heads=12,
            num_key_value_heads=12,
        )
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=32000 if not tiny else len(tokenizer),
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        **size,
    )
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    folder = out / "model-bf16"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _peak_memory_gb(device: str) -> float | None:
    import torch

    if device.startswith("cuda"):
        return round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return None


def _reset_peak(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def check_training(base: Path, out: Path, device: str, tiny: bool) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    from verikit.rm.config import PRMConfig
    from verikit.rm.data import ExampleSet, StepExample
    from verikit.rm.training import train_reward_model

    examples = ExampleSet([StepExample(q, s, t) for q, s, t in arithmetic_texts(64 if tiny else 2048, seed=1)])
    config = PRMConfig(
        base=str(base),
        learning_rate=2e-6,
        epochs=1,
        batch_size=8,
        warmup_ratio=0.0,
        max_length=256,
        save_dtype="float32",
        save_steps=10_000,
    )
    _reset_peak(device)
    summary = train_reward_model(config, examples, out / "prm", progress=False)
    before = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).state_dict()
    after = AutoModelForCausalLM.from_pretrained(out / "prm", dtype=torch.float32).state_dict()
    # decoder layers only: the tag loss gives the embeddings and most output rows (tokens other than + and -) no
    # gradient
    layers = [k for k, v in before.items() if ".layers." in k and k in after and after[k].shape == v.shape]
    moved = sum(int((after[k] != before[k]).sum()) for k in layers)
    total = sum(before[k].numel() for k in layers)
    tokens = (
        sum(len(q) + sum(len(s) for s in steps) for q, steps, _ in arithmetic_texts(len(examples.examples), seed=1))
        / 3.5
    )
    return {
        "precision": summary["precision"],
        "examples": summary["examples"],
        "steps": summary["global_step"],
        "seconds": summary["train_seconds"],
        "steps_per_second": round(summary["global_step"] / summary["train_seconds"], 2),
        "approx_tokens_per_second": round(tokens / summary["train_seconds"]),
        "peak_memory_gb": _peak_memory_gb(device),
        "weights_moved_share_at_lr_2e-6": round(moved / total, 4),
        "train_loss": summary["train_loss"],
    }


def check_scoring(prm: Path, device: str, tiny: bool) -> dict:
    from verikit.components import load_scorer

    rows = arithmetic_texts(256 if not tiny else 32, seed=2)
    scorer = load_scorer(prm, batch_size=32, device=device)
    questions, steps = [q for q, _, _ in rows], [s for _, s, _ in rows]
    scorer.score(questions[:8], steps[:8])  # warm-up (kernels, allocator)
    _reset_peak(device)
    started = time.perf_counter()
    scores = scorer.score(questions, steps)
    seconds = time.perf_counter() - started
    tokens = sum(len(scorer.tokenizer(q + " " + " ".join(s))["input_ids"]) for q, s in zip(questions, steps))
    per_prefix = scorer.score_per_prefix(questions[:16], steps[:16])
    difference = max(abs(a - b) for one, other in zip(scores[:16], per_prefix) for a, b in zip(one, other))
    return {
        "solutions": len(rows),
        "seconds": round(seconds, 3),
        "solutions_per_second": round(len(rows) / seconds, 1),
        "tokens_per_second": round(tokens / seconds),
        "peak_memory_gb": _peak_memory_gb(device),
        "max_difference_one_pass_vs_per_prefix": difference,
    }


def check_sampling(model: Path, device: str, tiny: bool) -> dict:
    from verikit.completers.transformers import TransformersCompleter

    prompts = [q + "\n" for q, _, _ in arithmetic_texts(32 if not tiny else 4, seed=3)]
    result = {}
    for name, buffered in (("buffered_kv", True), ("generate", False)):
        completer = TransformersCompleter(
            str(model),
            device=device,
            batch_size=512,
            max_new_tokens=64 if not tiny else 16,
            buffered=buffered,
            dtype="bfloat16" if device.startswith("cuda") else None,
        )
        completer.complete(prompts[:2], n=2, temperature=1.0, seed=0)  # warm-up
        started = time.perf_counter()
        output = completer.complete(prompts, n=16, temperature=1.0, seed=1)
        seconds = time.perf_counter() - started
        tokens = sum(map(sum, output.token_counts))
        result[name] = {
            "sequences": len(prompts) * 16,
            "generated_tokens": tokens,
            "seconds": round(seconds, 2),
            "tokens_per_second": round(tokens / seconds),
        }
        del completer
    result["buffered_over_generate"] = round(
        result["buffered_kv"]["tokens_per_second"] / result["generate"]["tokens_per_second"], 2
    )
    return result


def check_ppo(model: Path, device: str, tiny: bool) -> dict:
    from verikit.domains import Domain
    from verikit.rl.config import StepPPOConfig
    from verikit.rl.ppo import StepPPOTrainer
    from verikit.types import Problem

    def reward(questions, prompts, responses, tokenizer):  # one reward on each response's last token
        return [([-1], [1.0 if "answer" in r else 0.0]) for r in responses]

    domain = Domain(name="sums", answer_checker="-", step_splitter="lines", prompt_template="{question}\n")
    problems = [
        Problem(id=str(i), question=q, gold_answer="0", domain="sums")
        for i, (q, _, _) in enumerate(arithmetic_texts(16, seed=4))
    ]
    config = StepPPOConfig(
        prompts_per_step=8 if not tiny else 2,
        minibatch_size=4 if not tiny else 2,
        max_new_tokens=64 if not tiny else 8,
        ppo_epochs=1,
    )
    _reset_peak(device)
    trainer = StepPPOTrainer(str(model), reward, domain, config, device=device)
    started = time.perf_counter()
    stats = trainer.step(trainer.rollout(problems[: config.prompts_per_step]))
    seconds = time.perf_counter() - started
    return {
        "precision": trainer.precision,
        "seconds": round(seconds, 2),
        "peak_memory_gb": _peak_memory_gb(device),
        "policy_dtype": str(next(trainer.model.parameters()).dtype),
        "reference_dtype": str(next(trainer.reference.parameters()).dtype),
        "loss": stats.get("loss"),
    }


def main(argv: list[str] | None = None) -> dict:
    import torch

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gpu_check", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="A 2-layer model: the code paths in seconds (CPU).")
    parser.add_argument("--work", type=Path, default=Path("out/gpu_check"))
    parser.add_argument("--out", type=Path, default=Path("out/gpu_check.json"))
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; use --tiny --device cpu for the CPU run of the same code")
    started = time.perf_counter()
    report = {
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
        "torch": torch.__version__,
    }
    model = build_model(args.work, args.tiny)
    report["parameters"] = sum(
        p.numel() for p in __import__("transformers").AutoModelForCausalLM.from_pretrained(model).parameters()
    )
    for name, check in (
        ("prm_training", lambda: check_training(model, args.work, args.device, args.tiny)),
        ("scoring", lambda: check_scoring(args.work / "prm", args.device, args.tiny)),
        ("sampling", lambda: check_sampling(model, args.device, args.tiny)),
        ("ppo_step", lambda: check_ppo(model, args.device, args.tiny)),
    ):
        step_started = time.perf_counter()
        report[name] = check()
        print(f"{name}: {json.dumps(report[name])} ({time.perf_counter() - step_started:.0f}s)", flush=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out} ({report['seconds']:.0f}s)")
    return report


if __name__ == "__main__":
    main()
