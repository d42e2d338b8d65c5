"""A GPU check of the training and scoring code, with torch + transformers only (no hub, no vLLM, no data folder).

    python -m benchmarks.gpu_check --out gpu_check.json            # CUDA, a ~130M-parameter Llama, < 8 minutes
    python -m benchmarks.gpu_check --size 1b --out gpu_1b.json       # Llama 2048 x 22 layers (TinyLlama's shape)
    python -m benchmarks.gpu_check --size 7b --phases train,score    # Mistral-7B's shape: PRM training that must
                                                                     # end with its model saved on a 64 GB disk
    python -m benchmarks.gpu_check --tiny --device cpu --out x.json  # the same code paths on CPU in seconds

Sizes (``--size``): ``tiny`` (2 layers, CPU), ``130m`` (the default), ``1b`` and ``7b``, each with the workload of
issue 36's measurements (1b: 1,024 training texts of about 416 tokens at batch 16 with gradient checkpointing,
sampling 1,024 rows x 128 tokens). Every phase reports tokens per second, the MFU where the device's peak is known
(``VERIKIT_PEAK_TFLOPS`` overrides) and the share of the phase the device was busy, sampled every 0.25 s from
``nvidia-smi`` (``None`` on a CPU).

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

#: model shape and workload of each --size: the training texts' running sums have ``terms`` numbers (about 10 tokens
#: a step), so 1b's texts are ~416 tokens as in issue 36's measurement
SIZES = {
    "tiny": {
        "shape": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4),
        "kv_heads": 4,
        "vocab": None,  # the tokenizer's own
        "train": dict(texts=64, terms=(3, 6), batch_size=8, gradient_checkpointing=False, max_length=256),
        "score_texts": 32,
        "sample": dict(prompts=4, n=16, tokens=16),
        "ppo": True,
    },
    "130m": {
        "shape": dict(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12),
        "kv_heads": 12,
        "vocab": 32000,
        "train": dict(texts=2048, terms=(3, 6), batch_size=8, gradient_checkpointing=False, max_length=256),
        "score_texts": 256,
        "sample": dict(prompts=32, n=16, tokens=64),
        "ppo": True,
    },
    "1b": {
        "shape": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32),
        "kv_heads": 4,
        "vocab": 32000,
        "train": dict(texts=1024, terms=(38, 46), batch_size=16, gradient_checkpointing=True, max_length=512),
        "score_texts": 512,
        "sample": dict(prompts=128, n=8, tokens=128),
        "ppo": True,
    },
    "7b": {
        "shape": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32),
        "kv_heads": 8,
        "vocab": 32000,
        "train": dict(texts=256, terms=(38, 46), batch_size=8, gradient_checkpointing=True, max_length=512),
        "score_texts": 256,
        "sample": dict(prompts=128, n=8, tokens=64),
        "ppo": False,  # policy, reference and value model of 7B with fp32 masters: beyond one GPU's 141 GB
    },
}
PHASES = ("train", "score", "sample", "ppo")


class DeviceBusy:
    """The share of a phase the GPU was busy: ``nvidia-smi``'s utilization.gpu sampled every ``every`` seconds in a
    thread while the ``with`` block runs (``share`` is None on a CPU or where nvidia-smi is missing)."""

    def __init__(self, device: str, every: float = 0.25):
        self.device, self.every, self.samples, self.share = device, every, [], None

    def _sample(self, command: list[str]) -> None:
        import subprocess

        while not self._stop.wait(self.every):
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=5)
                self.samples.append(float(done.stdout.strip().splitlines()[0]) / 100)
            except (OSError, ValueError, IndexError, subprocess.SubprocessError):
                return

    def __enter__(self):
        import shutil
        import threading

        self._stop = threading.Event()
        self._thread = None
        smi = shutil.which("nvidia-smi")
        if self.device.startswith("cuda") and smi:
            index = self.device.split(":")[1] if ":" in self.device else "0"
            command = [smi, f"--id={index}", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]
            self._thread = threading.Thread(target=self._sample, args=(command,), daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.samples:
            self.share = round(sum(self.samples) / len(self.samples), 3)


def arithmetic_texts(
    count: int, seed: int = 0, terms: tuple[int, int] = (3, 6)
) -> list[tuple[str, list[str], list[float]]]:
    """(question, steps, targets) of running-sum problems of ``terms`` numbers, every third one with a slip at a
    random step."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        numbers = [rng.randint(2, 99) for _ in range(rng.randint(*terms))]
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


def build_model(out: Path, size: str, device: str = "cpu") -> Path:
    """A Llama of ``size``'s shape (:data:`SIZES`), initialised on ``device`` and saved in bf16 as hub checkpoints are
    (reused when the folder holds one: a 7B takes a minute to write)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from verikit.tiny_models import build_tiny_causal_lm

    folder = out / f"model-{size}-bf16"
    if (folder / "config.json").exists():
        return folder
    texts = [q + "\n" + "\n".join(s) for q, s, _ in arithmetic_texts(2000)]
    scratch = build_tiny_causal_lm(out / "tokenizer-source", texts, vocab_size=2000)  # trains the BPE tokenizer
    tokenizer = AutoTokenizer.from_pretrained(scratch)
    spec = SIZES[size]
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=spec["vocab"] or len(tokenizer),
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
        num_key_value_heads=spec["kv_heads"],
        **spec["shape"],
    )
    with torch.device(device if device.startswith("cuda") else "cpu"):  # 7B initialised on the CPU: minutes
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
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


def check_training(base: Path, out: Path, device: str, size: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    from verikit.rm.config import PRMConfig
    from verikit.rm.data import ExampleSet, StepExample
    from verikit.rm.training import train_reward_model

    work = SIZES[size]["train"]
    rows = arithmetic_texts(work["texts"], seed=1, terms=work["terms"])
    examples = ExampleSet([StepExample(q, s, t) for q, s, t in rows])
    big = size in ("1b", "7b")
    config = PRMConfig(
        base=str(base),
        learning_rate=2e-6,
        epochs=1,
        batch_size=work["batch_size"],
        warmup_ratio=0.0,
        max_length=work["max_length"],
        gradient_checkpointing=work["gradient_checkpointing"],
        group_by_length=True,
        # a 7B's fp32 weights and Adam state (~84 GB) would not fit the GPU machine's 64 GB disk: the model only,
        # in bf16 (14 GB), is what the run must end with
        checkpoints="model" if big else "auto",
        save_dtype="bfloat16" if big else "float32",
        save_steps=10_000,
    )
    _reset_peak(device)
    with DeviceBusy(device) as busy:
        summary = train_reward_model(config, examples, out / "prm", progress=False)
    result = {
        "precision": summary["precision"],
        "examples": summary["examples"],
        "steps": summary["global_step"],
        "seconds": summary["train_seconds"],
        "steps_per_second": round(summary["global_step"] / summary["train_seconds"], 2),
        **{k: summary.get(k) for k in ("tokens_per_second", "computed_per_real_token", "model_tflops_per_second")},
        "mfu": summary.get("mfu"),
        "device_busy_share": busy.share,
        "peak_memory_gb": _peak_memory_gb(device),
        "saved_model_bytes": sum(f.stat().st_size for f in (out / "prm").glob("*.safetensors")),
        "train_loss": summary["train_loss"],
    }
    if not big:  # the fp32-master check reads both models on the CPU: cheap at 130M, minutes at 7B
        before = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).state_dict()
        after = AutoModelForCausalLM.from_pretrained(out / "prm", dtype=torch.float32).state_dict()
        # decoder layers only: the tag loss gives the embeddings and most output rows (tokens other than + and -)
        # no gradient
        layers = [k for k, v in before.items() if ".layers." in k and k in after and after[k].shape == v.shape]
        moved = sum(int((after[k] != before[k]).sum()) for k in layers)
        result["weights_moved_share_at_lr_2e-6"] = round(moved / sum(before[k].numel() for k in layers), 4)
    return result


def check_scoring(prm: Path, device: str, size: str) -> dict:
    from verikit.components import load_scorer

    rows = arithmetic_texts(SIZES[size]["score_texts"], seed=2, terms=SIZES[size]["train"]["terms"])
    questions, steps = [q for q, _, _ in rows], [s for _, s, _ in rows]
    result = {"solutions": len(rows)}
    for batch_size in (32, 128):
        scorer = load_scorer(prm, batch_size=batch_size, device=device)
        scorer.score(questions[:8], steps[:8])  # warm-up (kernels, allocator)
        _reset_peak(device)
        with DeviceBusy(device) as busy:
            started = time.perf_counter()
            scores = scorer.score(questions, steps)
            seconds = time.perf_counter() - started
        tokens = sum(len(scorer.tokenizer(q + " " + " ".join(s))["input_ids"]) for q, s in zip(questions, steps))
        result[f"batch_{batch_size}"] = {
            "seconds": round(seconds, 3),
            "solutions_per_second": round(len(rows) / seconds, 1),
            "tokens_per_second": round(tokens / seconds),
            "mfu": _forward_mfu(scorer.model, tokens / seconds),
            "device_busy_share": busy.share,
            "peak_memory_gb": _peak_memory_gb(device),
        }
    per_prefix = scorer.score_per_prefix(questions[:16], steps[:16])
    result["max_difference_one_pass_vs_per_prefix"] = max(
        abs(a - b) for one, other in zip(scores[:16], per_prefix) for a, b in zip(one, other)
    )
    del scorer
    return result


def _forward_mfu(model, tokens_per_second: float) -> float | None:
    """2 x parameters x tokens/s over the device's peak (a forward pass: a third of training's 6N)."""
    from verikit.hf_training import peak_tflops

    peak = peak_tflops()
    parameters = sum(p.numel() for p in model.parameters())
    return round(2 * parameters * tokens_per_second / 1e12 / peak, 4) if peak else None


def check_sampling(model: Path, device: str, size: str) -> dict:
    from verikit.completers.transformers import TransformersCompleter

    work = SIZES[size]["sample"]
    prompts = [q + "\n" for q, _, _ in arithmetic_texts(work["prompts"], seed=3)]
    result = {}
    for name, buffered in (("buffered_kv", True), ("generate", False)):
        if name == "generate" and size in ("1b", "7b"):
            continue  # the point of comparison is made at 130M; generate at 1,024 rows of 7B would eat the budget
        completer = TransformersCompleter(
            str(model),
            device=device,
            batch_size=work["prompts"] * work["n"],
            max_new_tokens=work["tokens"],
            buffered=buffered,
            dtype="bfloat16" if device.startswith("cuda") else None,
        )
        completer.tokenizer.eos_token_id = None  # no row stops early: every row decodes every step
        completer.complete(prompts[:2], n=2, temperature=1.0, seed=0)  # warm-up
        with DeviceBusy(device) as busy:
            started = time.perf_counter()
            output = completer.complete(prompts, n=work["n"], temperature=1.0, seed=1)
            seconds = time.perf_counter() - started
        tokens = sum(map(sum, output.token_counts))
        result[name] = {
            "sequences": len(prompts) * work["n"],
            "generated_tokens": tokens,
            "seconds": round(seconds, 2),
            "tokens_per_second": round(tokens / seconds),
            "ms_per_step": round(1000 * seconds / work["tokens"], 2),
            "device_busy_share": busy.share,
        }
        del completer
    if "generate" in result:
        result["buffered_over_generate"] = round(
            result["buffered_kv"]["tokens_per_second"] / result["generate"]["tokens_per_second"], 2
        )
    return result


def check_ppo(model: Path, device: str, size: str) -> dict:
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
    tiny = size == "tiny"
    config = StepPPOConfig(
        prompts_per_step=8 if not tiny else 2,
        minibatch_size=4 if not tiny else 2,
        max_new_tokens=64 if not tiny else 8,
        ppo_epochs=1,
    )
    _reset_peak(device)
    trainer = StepPPOTrainer(str(model), reward, domain, config, device=device)
    with DeviceBusy(device) as busy:
        started = time.perf_counter()
        stats = trainer.step(trainer.rollout(problems[: config.prompts_per_step]))
        seconds = time.perf_counter() - started
    return {
        "precision": trainer.precision,
        "seconds": round(seconds, 2),
        "device_busy_share": busy.share,
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
    parser.add_argument("--size", choices=list(SIZES), default="130m", help="Model shape and workload.")
    parser.add_argument("--tiny", action="store_true", help="--size tiny: the code paths in seconds (CPU).")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"Comma-separated, of {', '.join(PHASES)}.")
    parser.add_argument("--work", type=Path, default=Path("out/gpu_check"))
    parser.add_argument("--out", type=Path, default=Path("out/gpu_check.json"))
    args = parser.parse_args(argv)
    size = "tiny" if args.tiny else args.size
    phases = [p for p in args.phases.split(",") if p]
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    if "score" in phases and "train" not in phases and not (args.work / "prm" / "config.json").exists():
        parser.error("the score phase reads the PRM the train phase writes: add train, or run it first")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here; use --tiny --device cpu for the CPU run of the same code")
    started = time.perf_counter()
    report = {
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
        "torch": torch.__version__,
        "size": size,
    }
    model = build_model(args.work, size, args.device)
    report["parameters"] = sum(
        p.numel() for p in __import__("transformers").AutoModelForCausalLM.from_pretrained(model).parameters()
    )
    checks = {
        "train": ("prm_training", lambda: check_training(model, args.work, args.device, size)),
        "score": ("scoring", lambda: check_scoring(args.work / "prm", args.device, size)),
        "sample": ("sampling", lambda: check_sampling(model, args.device, size)),
        "ppo": ("ppo_step", lambda: check_ppo(model, args.device, size)),
    }
    for phase in phases:
        name, check = checks[phase]
        if phase == "ppo" and not SIZES[size]["ppo"]:
            report[name] = {"skipped": f"not planned at {size} on one GPU"}
            continue
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
