"""Reward-model training on a run's own annotations, batches in random order against batches grouped by length,
side by side in one process: tokens computed per real token (padding), tokens per second and, on a GPU whose peak
is known, the MFU.

    python -m benchmarks.rm_throughput --run out/demo/arith-easy [--epochs 1] [--out out/benchmarks/rm_throughput]
    python -m benchmarks.rm_throughput --annotations DIR --base MODEL

Both sides train the same tag-head PRM (the run's reward-model base, its first annotation folder, its recipe's PRM
settings, one epoch) into a scratch folder; the order of the two is alternated over ``--repeats`` so that a drift of
the machine hits both. Writes ``rm_throughput.json`` and ``rm_throughput.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.rm_throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--run", type=Path, help="A pipeline run (the demo's: out/demo/arith-easy).")
    parser.add_argument("--annotations", type=Path, help="An annotation folder (default: the run's first).")
    parser.add_argument("--base", help="The reward model's base (default: the run's reward_model_base).")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2, help="Runs of each side, alternated.")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/rm_throughput"))
    args = parser.parse_args(argv)
    from verikit.rm.config import PRMConfig
    from verikit.rm.data import load_examples
    from verikit.rm.training import train_reward_model

    if args.run is None and (args.annotations is None or args.base is None):
        parser.error("give --run, or --annotations and --base")
    base, annotations, training = args.base, args.annotations, {"learning_rate": 1e-3}
    if args.run is not None:
        recipe = json.loads((args.run / "recipe.json").read_text())["recipe"]
        training = next((rm.get("training") or {} for rm in recipe["reward_models"] if rm.get("kind") == "prm"), {})
        base = base or json.loads((args.run / "models.json").read_text())["reward_model_base"]
        annotations = annotations or sorted(p for p in (args.run / "annotations").iterdir() if p.is_dir())[0]
    examples = load_examples(annotations, "prm", "hard")
    scratch = Path(tempfile.mkdtemp(prefix="verikit-rm-throughput-"))
    sides: dict[str, list[dict]] = {"random order": [], "grouped by length": []}
    try:
        for repeat in range(args.repeats):
            order = list(sides) if repeat % 2 == 0 else list(reversed(sides))
            for side in order:
                config = PRMConfig(
                    base=base,
                    **{**training, "epochs": args.epochs, "group_by_length": side != "random order"},
                )
                summary = train_reward_model(
                    config, examples, scratch / f"{side}-{repeat}".replace(" ", "-"), progress=False
                )
                sides[side].append(
                    {
                        k: summary[k]
                        for k in (
                            "computed_per_real_token",
                            "tokens_per_second",
                            "tokens_real",
                            "tokens_computed",
                            "train_seconds",
                            "train_loss",
                            "mfu",
                        )
                    }
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "run": str(args.run),
        "annotations": str(annotations),
        "examples": len(examples.examples),
        "settings": {**training, "epochs": args.epochs},
        "sides": sides,
    }
    for side, runs in sides.items():
        result[side] = {
            "computed_per_real_token": runs[0]["computed_per_real_token"],
            "tokens_per_second_mean": round(statistics.mean(r["tokens_per_second"] for r in runs), 1),
        }
    before, after = result["random order"], result["grouped by length"]
    result["padding_ratio"] = round(before["computed_per_real_token"] / after["computed_per_real_token"], 3)
    result["speedup"] = round(after["tokens_per_second_mean"] / before["tokens_per_second_mean"], 3)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rm_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| batches | tokens computed per real token | real tokens/s (mean) |", "|---|---|---|"]
    for side in sides:
        figures = result[side]
        ratio, speed = figures["computed_per_real_token"], figures["tokens_per_second_mean"]
        lines.append(f"| {side} | {ratio:.3f} | {speed:,.0f} |")
    runs = f"{len(examples.examples)} solutions, {args.repeats} runs a side"
    lines.append(f"\nspeed-up {result['speedup']:.2f}x ({runs})")
    (args.out / "rm_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
