"""Monte Carlo annotation throughput on the demo's models: hard-label solutions per minute at N = 8, before/after.

    python -m benchmarks.annotation_throughput --demo out/demo [--problems 400] [--out DIR]

Both runs annotate the same ``--problems`` arith-easy train problems × 4 policy solutions with the demo's
completer (hard estimation, early-exit, N = 8, rollout temperature 0.7: the demo's annotation), in one process
with the models loaded once, one after the other:

* ``before`` — the demo's schedule until now: chunks of 40 problems, early-exit rounds of 2 rollouts, 1,024
  sequences per batch, every rollout row holding its own copy of the prompt's KV cache;
* ``after`` — one chunk of all the problems, rounds of 8 (one round per probed step: the early exit then
  only saves what a witnessed step's siblings would have cost, and fewer, fuller batches win on a CPU),
  2,048 sequences per batch, and shared-prefix attention (each prompt's KV cache read once for its 8 rollouts).

Every solution and rollout is drawn from its own keyed stream, so the two runs must give identical solutions and
hard labels; the benchmark checks it (every run against every other) and fails loudly if not. Both schedules first
annotate 8 dev problems untimed (torch's first calls in a process are slow); then each is timed ``--repeats`` times in
the order before, after, after, before, and the fastest run of each is reported. Run it on a quiet machine. Writes
``OUT/annotation_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

SCHEDULES = {
    "before": {"chunk_size": 40, "round_size": 2, "batch_size": 1024, "backend_options": {"shared_prefix": False}},
    "after": {"chunk_size": None, "round_size": 8, "batch_size": 2048, "backend_options": {"shared_prefix": True}},
}


def demo_models(demo: Path, preset: str) -> tuple[str, str]:
    """The policy and completer folders of a demo run (from its ``details.json``)."""
    details = json.loads((demo / "details.json").read_text())[preset]
    return details["policy"], details["completer"]


def run_schedule(name: str, policy: str, completer: str, problems: int, folder: Path, split: str = "train"
                 ) -> tuple[dict, dict]:
    """One annotation run under schedule ``name``: its figures and its labels by (problem, sample)."""
    from verikit.annotation.config import AnnotationConfig
    from verikit.annotation.driver import Annotator, annotate
    from verikit.annotation.storage import load_records

    schedule = SCHEDULES[name]
    config = AnnotationConfig(dataset="arith-easy", split=split, limit=problems, generator=policy, completer=completer,
                              samples_per_problem=4, n_rollouts=8, strategy="early-exit", rollout_temperature=0.7,
                              max_new_tokens=160, seed=0, device="cpu", chunk_size=schedule["chunk_size"] or problems,
                              round_size=schedule["round_size"], batch_size=schedule["batch_size"],
                              backend_options=schedule["backend_options"])
    annotator = Annotator(config)  # models load before the clock starts
    out = folder / f"{name}-{split}"
    started = time.perf_counter()
    summary = annotate(config, out, progress=False, annotator=annotator)
    seconds = time.perf_counter() - started
    records = load_records(out)
    labels = {(r["problem_id"], r["sample_index"]): (r["solution"], r["hard_labels"]) for r in records}
    figures = {"schedule": dict(schedule), "solutions": summary.solutions, "seconds": round(seconds, 1),
               "solutions_per_minute": round(60 * summary.solutions / seconds),
               "rollouts_generated": summary.rollouts_generated, "rollout_tokens": summary.rollout_tokens,
               "labelled_steps": sum(len(r["hard_labels"]) for r in records),
               "positive_steps": sum(sum(r["hard_labels"]) for r in records)}
    print(f"{name:>6} ({split}): {summary.solutions} solutions in {seconds:.1f} s = {figures['solutions_per_minute']:,} per minute "
          f"({summary.rollouts_generated:,} rollouts, {summary.rollout_tokens:,} rollout tokens)", flush=True)
    return figures, labels


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.annotation_throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, required=True, help="A verikit demo folder (its policy and completer).")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--problems", type=int, default=400, help="Train problems (x 4 solutions); the demo annotates 400.")
    parser.add_argument("--repeats", type=int, default=2, help="Timed runs of each schedule (the fastest is reported).")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/annotation_throughput"))
    args = parser.parse_args(argv)
    policy, completer = demo_models(args.demo, args.preset)
    scratch = Path(tempfile.mkdtemp(prefix="verikit-throughput-"))
    try:
        for name in SCHEDULES:  # warm-up (dev problems, not timed): the first run in a process pays torch's start-up
            run_schedule(name, policy, completer, 8, scratch, split="dev")
        runs = {"before": [], "after": []}
        order = ["before", "after", "after", "before"][: 2 * args.repeats] if args.repeats <= 2 else \
            ["before", "after"] * args.repeats
        for name in order:  # before, after, after, before: a drift in the machine's speed hits both alike
            shutil.rmtree(scratch / f"{name}-train", ignore_errors=True)
            runs[name].append(run_schedule(name, policy, completer, args.problems, scratch))
        (before, before_labels), (after, after_labels) = (min(runs[name], key=lambda r: r[0]["seconds"])
                                                          for name in ("before", "after"))
        before["all_seconds"] = [r[0]["seconds"] for r in runs["before"]]
        after["all_seconds"] = [r[0]["seconds"] for r in runs["after"]]
        identical = all(labels == runs["before"][0][1] for name in runs for _, labels in runs[name])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {"problems": args.problems, "before": before, "after": after,
              "speedup": round(before["seconds"] / after["seconds"], 2), "identical_solutions_and_labels": identical}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "annotation_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"speed-up {result['speedup']:.2f}x; identical solutions and hard labels: {identical} "
          f"(wrote {args.out / 'annotation_throughput.json'})")
    if not identical:
        differing = sum(before_labels.get(k) != v for k, v in after_labels.items())
        raise SystemExit(f"the runs gave different labels (before vs after: {differing} of {len(after_labels)} solutions differ)")
    return result


if __name__ == "__main__":
    main()
