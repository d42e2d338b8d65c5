"""Monte Carlo annotation on the arith domain: label quality vs exact gold, and rollouts spent, per strategy.

    python -m benchmarks.annotation --generator DIR [--preset arith-easy] [--problems 200] [--samples 4]

One naive annotation run at N = max(--ns) keeps every rollout verdict; each strategy at each N is replayed
on those same rollouts, so the ratios below compare strategies on identical samples. Writes
``OUT/annotation_quality.json`` (+ PNG) and ``OUT/annotation_benchmark.json`` with the ratios.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import verikit
from verikit.annotation.config import AnnotationConfig
from verikit.annotation.driver import annotate
from verikit.annotation.quality import evaluate_labels, plot_quality
from verikit.annotation.storage import load_records


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--generator", required=True, help="Trained miniature generator (the policy whose solutions are labelled)."
    )
    parser.add_argument(
        "--completer", default=None, help="Model that rolls out from step prefixes (default: the generator)."
    )
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--split", default="dev", help="Problems to annotate (dev: never the test split).")
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--ns", default="1,2,4,8,16")
    parser.add_argument(
        "--rollout-temperature", type=float, default=None, help="Completer temperature (default: 1.0, as sampling)."
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/annotation"))
    args = parser.parse_args(argv)
    ns = [int(n) for n in args.ns.split(",")]
    config = AnnotationConfig(
        dataset=args.preset,
        split=args.split,
        limit=args.problems,
        generator=args.generator,
        completer=args.completer,
        samples_per_problem=args.samples,
        n_rollouts=max(ns),
        strategy="naive",
        seed=args.seed,
        rollout_temperature=args.rollout_temperature,
        max_new_tokens=160,
        deduplicate=False,
    )  # every sample, as measured before dedup
    summary = annotate(config, args.out / "annotations")
    records = load_records(args.out / "annotations")
    labeller = verikit.domain("arith").load_gold_labeller()
    quality = evaluate_labels(records, labeller, ns=ns)
    (args.out / "annotation_quality.json").write_text(json.dumps(quality, indent=2))
    plot_quality(quality, args.out / "annotation_quality.png")

    rows = {}
    print(
        f"\n{quality['counts']['solutions']} solutions, {quality['counts']['steps']} steps "
        f"({quality['counts']['bad_steps']} bad by gold); naive annotation took {summary.seconds:.0f}s, "
        f"{summary.rollouts_generated} rollouts generated for {summary.rollouts_used} used (prefix sharing)"
    )
    print(
        f"{'N':>3} | {'naive acc':>9} {'r/sol':>6} | {'early-exit acc':>14} {'ratio':>6} | {'binary acc':>10} "
        f"{'ratio':>6} | {'soft acc':>8}"
    )
    for n in ns:
        naive, early, binary = (quality[s][n] for s in ("naive", "early-exit", "binary-search"))
        rows[n] = {
            "naive_accuracy": naive["accuracy"],
            "naive_rollouts_per_solution": naive["rollouts_per_solution"],
            "early_exit_accuracy": early["accuracy"],
            "early_exit_rollout_ratio": early["rollouts_per_solution"] / naive["rollouts_per_solution"],
            "binary_search_accuracy": binary["accuracy"],
            "binary_search_rollout_ratio": binary["rollouts_per_solution"] / naive["rollouts_per_solution"],
            "soft_accuracy": quality["soft"][n]["accuracy"],
        }
        r = rows[n]
        print(
            f"{n:>3} | {100 * r['naive_accuracy']:>8.1f}% {r['naive_rollouts_per_solution']:>6.1f} | "
            f"{100 * r['early_exit_accuracy']:>13.1f}% {r['early_exit_rollout_ratio']:>6.2f} | "
            f"{100 * r['binary_search_accuracy']:>9.1f}% {r['binary_search_rollout_ratio']:>6.2f} | "
            f"{100 * r['soft_accuracy']:>7.1f}%"
        )
    result = {"config": config.model_dump(), "summary": vars(summary), "by_n": rows}
    (args.out / "annotation_benchmark.json").write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out / 'annotation_benchmark.json'} and {args.out / 'annotation_quality.png'}")
    return result


if __name__ == "__main__":
    main()
