"""One-pass PRM scoring (every step read at its tag in one forward pass) vs re-encoding each step prefix.

    python -m benchmarks.scoring --model DIR [--solutions 64] [--steps 8] [--out out/benchmarks/scoring.json]

The solutions are canonical arith-hard solutions with exactly ``--steps`` steps (7 operations and the
answer line). Both ways run in this process on the same model, batch size and threads; the scores must
agree to 1e-5. Prints the speed ratio and writes it with the timings as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import verikit


def solutions_with_steps(count: int, steps: int) -> tuple[list[str], list[list[str]]]:
    from verikit_arith.expressions import parse
    from verikit_arith.problems import canonical_steps, load_split

    questions, solutions = [], []
    for split in ("test", "dev", "train"):
        for problem in load_split("arith-hard", split, limit=None if split != "train" else 5000):
            solution = canonical_steps(parse(problem.question.removesuffix("=?")))
            if len(solution) == steps:
                questions.append(problem.question)
                solutions.append(solution)
            if len(questions) == count:
                return questions, solutions
    raise SystemExit(f"found only {len(questions)} arith-hard solutions with {steps} steps")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="A PRM folder (any causal LM whose tokenizer has the step tag).")
    parser.add_argument("--solutions", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="Best of this many timings of each way.")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/scoring.json"))
    args = parser.parse_args(argv)
    questions, solutions = solutions_with_steps(args.solutions, args.steps)
    scorer = verikit.scorer(args.model, batch_size=args.batch_size)
    scorer.score(questions[:2], solutions[:2])  # warm-up

    def best_time(function):
        timings, result = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = function(questions, solutions)
            timings.append(time.perf_counter() - started)
        return min(timings), result

    one_pass_seconds, one_pass = best_time(scorer.score)
    per_prefix_seconds, per_prefix = best_time(scorer.score_per_prefix)
    max_difference = max(abs(a - b) for x, y in zip(one_pass, per_prefix) for a, b in zip(x, y))
    result = {
        "model": str(args.model), "solutions": len(solutions), "steps_per_solution": args.steps,
        "batch_size": args.batch_size, "one_pass_seconds": one_pass_seconds, "per_prefix_seconds": per_prefix_seconds,
        "speedup": per_prefix_seconds / one_pass_seconds, "max_abs_difference": max_difference,
        "same_scores_1e-5": max_difference <= 1e-5,
    }
    print(f"{len(solutions)} solutions × {args.steps} steps: one pass {one_pass_seconds:.3f}s, per prefix "
          f"{per_prefix_seconds:.3f}s → {result['speedup']:.1f}× faster; max |Δscore| {max_difference:.2e}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    if not result["same_scores_1e-5"]:
        raise SystemExit("one-pass and per-prefix scores differ by more than 1e-5")
    return result


if __name__ == "__main__":
    main()
