"""Choose the policy's sampling temperature for best-of-N on the dev split (never on test).

    python -m benchmarks.temperature_dev --policy DIR --rm DIR [--temperatures 0.6,0.8,1.0] [--problems 200] [--samples
    16]

For each temperature: self-consistency, the reward model's best-of-N and SC+RM at N=``--samples``, pass@N
and the per-sample accuracy, on the first ``--problems`` dev problems. ``verikit demo`` uses the winner:
0.6 on arith-easy (current generators, N=64, the demo's likelihood PRM: SC 46.5 / best-of-64 47.5 /
SC+RM 55.5 at 0.6 vs 48.0 / 36.0 / 56.0 at 0.8; with the previous character-level policy 0.6 won too).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import verikit
from verikit.bon import bon_curves, gather_samples, set_scores
from verikit.components import load_scorer
from verikit.rm.scorer import score_unique


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--rm", required=True, help="Reward model folder used for best-of-N.")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--temperatures", default="0.6,0.8,1.0")
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/temperature_dev.json"))
    args = parser.parse_args(argv)
    problems = verikit.load_dataset(args.preset, split="dev", limit=args.problems)
    domain = verikit.domain(problems[0].domain)
    checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
    from verikit_arith.evaluation import MAX_NEW_TOKENS

    policy = verikit.completer("transformers", model=args.policy, max_new_tokens=MAX_NEW_TOKENS.get(args.preset, 320))
    scorer = load_scorer(args.rm, batch_size=64)
    methods = {
        "self-consistency": ("self-consistency", None),
        "best-of-n": ("best-of-n", "rm"),
        "sc+rm": ("sc+rm", "rm"),
    }
    result = {}
    for temperature in [float(t) for t in args.temperatures.split(",")]:
        started = time.perf_counter()
        texts = policy.complete([domain.prompt(p) for p in problems], n=args.samples, temperature=temperature, seed=0)
        entries, readable, _ = gather_samples(problems, texts, checker, splitter)
        set_scores(
            entries,
            readable,
            score_unique(scorer, [r.question for r in readable], [r.steps for r in readable]),
            "rm",
            "min",
        )
        curves = bon_curves(entries, methods, [args.samples], repeats=5)
        row = {name: curves[name][args.samples]["acc"] for name in methods}
        row.update(
            pass_at_n=sum(any(e.correct) for e in entries) / len(entries),
            sample_acc=sum(sum(e.correct) for e in entries) / (args.samples * len(entries)),
            seconds=round(time.perf_counter() - started, 1),
        )
        result[temperature] = row
        print(
            f"T={temperature}: "
            + ", ".join(f"{k} {100 * v:.1f}" if k != "seconds" else f"{v:.0f}s" for k, v in row.items()),
            flush=True,
        )
    best = max(result, key=lambda t: (result[t]["best-of-n"], result[t]["self-consistency"]))
    print(f"best on dev: T={best}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"by_temperature": result, "best": best}, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
