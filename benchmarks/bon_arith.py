"""Best-of-N on the miniature: self-consistency vs reward-model selection of the policy's samples.

    python -m benchmarks.bon_arith --policy DIR --rm NAME=DIR [--rm …] [--split dev] [--problems 200] [--samples 64]

Samples ``--samples`` solutions per problem from the policy (seeded), scores each with every reward
model (``min`` and ``prod`` aggregation), and prints accuracy at N = 1, 2, 4, … with 95% intervals from
repeated subsampling, for SC, each RM's best-of-N and SC+RM; also the within-problem pairwise AUC of each
RM on these samples. Use ``--split dev`` while choosing settings; the test split is for the final table.
Writes ``OUT/bon.json``, ``OUT/bon.png`` and ``OUT/samples.jsonl`` (per-sample answers, verdicts, scores).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import verikit
from verikit.bon import bon_curves, gather_samples, plot_curves, set_scores, within_problem_pairwise_auc
from verikit.components import load_scorer
from verikit.rm.scorer import score_unique


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", required=True)
    parser.add_argument("--rm", action="append", default=[], help="NAME=DIR of a reward model (repeatable).")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/bon"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    problems = verikit.load_dataset(args.preset, split=args.split, limit=args.problems)
    domain = verikit.domain(problems[0].domain)
    checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
    started = time.perf_counter()
    completer = verikit.completer("transformers", model=args.policy, max_new_tokens=160)
    texts = completer.complete([domain.prompt(p) for p in problems], n=args.samples, temperature=1.0, seed=args.seed)
    sampling_seconds = time.perf_counter() - started

    entries, readable, unscorable = gather_samples(problems, texts, checker, splitter)
    methods = {"self-consistency": ("self-consistency", None)}
    pairwise = {}
    for spec in args.rm:
        name, _, path = spec.partition("=")
        step_scores = score_unique(
            load_scorer(path, batch_size=64), [r.question for r in readable], [r.steps for r in readable]
        )
        for agg in ("min", "prod"):
            key = f"{name}/{agg}"
            set_scores(entries, readable, step_scores, key, agg)
            methods[key] = ("best-of-n", key)
            methods[f"sc+{key}"] = ("sc+rm", key)
            pairwise[key] = within_problem_pairwise_auc(entries, key)
    ns = [n for n in (1, 2, 4, 8, 16, 32, 64, 128, 256) if n <= args.samples]
    curves = bon_curves(entries, methods, ns, repeats=args.repeats, seed=args.seed)
    pass_at = sum(any(e.correct) for e in entries) / len(entries)
    print(
        f"\n{len(entries)} {args.split} problems × {args.samples} samples (sampled in {sampling_seconds:.0f}s); "
        f"pass@{args.samples} {100 * pass_at:.1f}%; {unscorable} samples without readable steps scored 0"
    )
    print(f"{'method':<28}" + "".join(f"{'N=' + str(n):>16}" for n in ns) + f"{'pairwise':>10}")
    for name, points in curves.items():
        cells = "".join(
            f"{100 * points[n]['acc']:>6.1f} [{100 * points[n]['ci_low']:.0f},{100 * points[n]['ci_high']:.0f}]".rjust(
                16
            )
            for n in ns
        )
        rm = methods[name][1]
        auc = None if rm is None else pairwise[rm]  # None too when no problem has both a right and a wrong sample
        print(f"{name:<28}{cells}{'' if rm is None else ('n/a' if auc is None else f'{auc:.3f}').rjust(10)}")
    result = {
        "config": vars(args) | {"out": str(args.out)},
        "pass_at_n": pass_at,
        "curves": curves,
        "pairwise_auc": pairwise,
        "sampling_seconds": sampling_seconds,
        "unscorable_samples": unscorable,
    }
    with open(
        args.out / "samples.jsonl", "w"
    ) as raw:  # every sample's answer, verdict and scores: curves can be recomputed
        for problem, entry in zip(problems, entries):
            raw.write(
                json.dumps(
                    {
                        "problem_id": problem.id,
                        "answers": entry.answers,
                        "correct": entry.correct,
                        "scores": entry.scores,
                    }
                )
                + "\n"
            )
    (args.out / "bon.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    plot_curves(
        {k: v for k, v in curves.items() if "/min" in k or k == "self-consistency"},
        args.out / "bon.png",
        title=f"{args.preset} {args.split}: best-of-N",
    )
    print(f"wrote {args.out / 'bon.json'} and {args.out / 'bon.png'}")
    return result


if __name__ == "__main__":
    main()
