"""Why one seed trains different miniature generators on different machines: the same training, run under other CPU
kernels and thread counts, compared weight for weight.

    python -m benchmarks.generator_numerics [--steps 30] [--out out/benchmarks/generator_numerics]

Each setting trains the arith-easy policy's configuration for ``--steps`` optimiser steps (its own data stream and
initialisation, no cached trunk) in a subprocess whose environment selects the kernels, and hashes the trained
weights. Settings: torch on 1 and on 2 threads; PyTorch's own vectorised kernels forced to another instruction set
(``ATEN_CPU_CAPABILITY``: default, avx2, avx512); MKL's conditional numerical reproducibility path (``MKL_CBWR``);
the pinned numerics the arith plugin trains under (:data:`verikit_arith.training.PINNED_CPU_NUMERICS`), alone and
with every library also held to AVX2 (what a machine without AVX-512 would run). Identical hashes are identical
weights. Writes ``generator_numerics.json`` and ``generator_numerics.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import dataclasses, hashlib, json, sys, tempfile
import torch
torch.set_num_threads(int(sys.argv[2]))
import verikit_arith.training as training
config = dataclasses.replace(training.default_config("arith-easy", "policy"), max_steps=int(sys.argv[1]),
                             schedule="cosine", decay_steps=0, warmup_steps=min(5, int(sys.argv[1])))
training._latest_trunk = lambda config: None  # train from the initialisation, never from a cached trunk
training._branch_points = lambda config: set()
with tempfile.TemporaryDirectory() as folder:
    summary = training.train(config, folder, progress=False)
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(folder)
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters())).hexdigest()[:16]
print(json.dumps({"weights": digest, "train_loss": summary["train_loss"],
                  "capability": torch.backends.cpu.get_cpu_capability()}))
"""


def settings() -> dict[str, tuple[int, dict[str, str]]]:
    """Name → (threads, environment)."""
    from verikit_arith.training import PINNED_CPU_NUMERICS

    held = {**PINNED_CPU_NUMERICS, "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
    return {
        "native, 2 threads": (2, {}),
        "native, 1 thread": (1, {}),
        "ATEN_CPU_CAPABILITY=default": (2, {"ATEN_CPU_CAPABILITY": "default"}),
        "ATEN_CPU_CAPABILITY=avx2": (2, {"ATEN_CPU_CAPABILITY": "avx2"}),
        "ATEN_CPU_CAPABILITY=avx512": (2, {"ATEN_CPU_CAPABILITY": "avx512"}),
        "MKL_CBWR=COMPATIBLE": (2, {"MKL_CBWR": "COMPATIBLE"}),
        "pinned (the plugin's)": (2, dict(PINNED_CPU_NUMERICS)),
        "pinned, 1 thread": (1, dict(PINNED_CPU_NUMERICS)),
        "pinned, every library held to AVX2": (2, held),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generator_numerics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--only", help="Setting names separated by ; (default: all).")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/generator_numerics"))
    args = parser.parse_args(argv)
    chosen = settings()
    if args.only:
        chosen = {name: chosen[name] for name in args.only.split(";")}
    results = {}
    for name, (threads, environment) in chosen.items():
        env = {**{k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR")}, **environment}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(args.steps), str(threads)], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"{name}: training failed:\n{done.stderr[-2000:]}")
        results[name] = {
            "threads": threads,
            "environment": environment,
            **json.loads(done.stdout.strip().splitlines()[-1]),
        }
        print(f"{name:38s} weights {results[name]['weights']}  loss {results[name]['train_loss']:.6f}", flush=True)
    reference = results[next(iter(results))]["weights"]
    result = {
        "steps": args.steps,
        "settings": results,
        "same_as_native": {name: r["weights"] == reference for name, r in results.items()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "generator_numerics.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"| setting ({args.steps} steps) | weights (sha256, 16 hex) | last loss |", "|---|---|---|"]
    lines += [f"| {name} | `{r['weights']}` | {r['train_loss']:.6f} |" for name, r in results.items()]
    (args.out / "generator_numerics.md").write_text("\n".join(lines) + "\n")
    return result


if __name__ == "__main__":
    main()
