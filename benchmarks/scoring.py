"""One-pass PRM scoring (every step read at its tag in one forward pass) vs re-encoding each step prefix.

    python -m benchmarks.scoring --model DIR [--solutions 64] [--steps 7] [--out out/benchmarks/scoring.json]

The solutions are canonical arith-hard solutions with exactly ``--steps`` steps (the preset's longest have
7: six operations and the answer line). Both ways run in this process on the same model, batch size and threads; the
scores must
agree to 1e-5. Prints the speed ratio per batch size and the ratio of tokens read, and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import verikit
from verikit.format import prm_input


def solutions_with_steps(count: int, steps: int) -> tuple[list[str], list[list[str]]]:
    from verikit_arith.expressions import parse
    from verikit_arith.problems import canonical_steps, load_split

    questions, solutions, found = [], [], set()
    for split in ("test", "dev", "train"):
        for problem in load_split("arith-hard", split, limit=None if split != "train" else 5000):
            solution = canonical_steps(parse(problem.question.removesuffix("=?")))
            found.add(len(solution))
            if len(solution) == steps:
                questions.append(problem.question)
                solutions.append(solution)
            if len(questions) == count:
                return questions, solutions
    raise SystemExit(
        f"found only {len(questions)} arith-hard solutions with {steps} steps "
        f"(the preset's solutions have {', '.join(map(str, sorted(found)))} steps)"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="A PRM folder (any causal LM whose tokenizer has the step tag).")
    parser.add_argument("--solutions", type=int, default=64)
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument(
        "--batch-sizes",
        default="1,16",
        help="Sequences per forward pass, the same for both ways; 1 is how a per-prefix loop is usually written.",
    )
    parser.add_argument("--repeats", type=int, default=3, help="Best of this many timings of each way.")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/scoring.json"))
    args = parser.parse_args(argv)
    questions, solutions = solutions_with_steps(args.solutions, args.steps)
    scorer = verikit.scorer(args.model)
    scorer.score(questions[:2], solutions[:2])  # warm-up

    one_pass_tokens = sum(len(scorer.tokenizer(prm_input(q, s))["input_ids"]) for q, s in zip(questions, solutions))
    prefix_tokens = sum(
        len(scorer.tokenizer(prm_input(q, s[:k]))["input_ids"])
        for q, s in zip(questions, solutions)
        for k in range(1, len(s) + 1)
    )

    def best_time(function):
        timings, result = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = function(questions, solutions)
            timings.append(time.perf_counter() - started)
        return min(timings), result

    result = {
        "model": str(args.model),
        "solutions": len(solutions),
        "steps_per_solution": args.steps,
        "token_ratio": prefix_tokens / one_pass_tokens,
        "by_batch_size": {},
    }
    print(
        f"{len(solutions)} solutions × {args.steps} steps; re-encoding every prefix reads "
        f"{result['token_ratio']:.1f}× the tokens of one pass"
    )
    worst = 0.0
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        scorer.batch_size = batch_size
        one_pass_seconds, one_pass = best_time(scorer.score)
        per_prefix_seconds, per_prefix = best_time(scorer.score_per_prefix)
        difference = max(abs(a - b) for x, y in zip(one_pass, per_prefix) for a, b in zip(x, y))
        worst = max(worst, difference)
        result["by_batch_size"][batch_size] = {
            "one_pass_seconds": one_pass_seconds,
            "per_prefix_seconds": per_prefix_seconds,
            "speedup": per_prefix_seconds / one_pass_seconds,
            "max_abs_difference": difference,
        }
        print(
            f"  batch size {batch_size:>3}: one pass {one_pass_seconds:.3f}s, per prefix {per_prefix_seconds:.3f}s → "
            f"{per_prefix_seconds / one_pass_seconds:.1f}× faster; max |Δscore| {difference:.2e}"
        )
    result["max_abs_difference"] = worst
    result["same_scores_1e-5"] = worst <= 1e-5
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    if not result["same_scores_1e-5"]:
        raise SystemExit("one-pass and per-prefix scores differ by more than 1e-5")
    return result


if __name__ == "__main__":
    main()
