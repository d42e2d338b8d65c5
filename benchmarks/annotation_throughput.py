"""Monte Carlo annotation throughput on the demo's models: hard-label solutions per minute at N = 8, before/after.

    python -m benchmarks.annotation_throughput --demo out/demo [--problems 400] [--baseline c1c38c5] [--out DIR]

Both runs annotate the same ``--problems`` train problems of the preset with the demo's policy and completer and
the annotation settings of the preset's recipe (for arith-easy, the default: 4 solutions a problem, hard
estimation, early-exit, N = 8, rollout temperature 0.7), in one process with the models loaded once, one after
the other:

* ``before`` — the demo's schedule until now: chunks of 40 problems, early-exit rounds of 2 rollouts, 1,024
  sequences per batch, every rollout row holding its own copy of the prompt's KV cache, every prompt encoded;
* ``after`` — one chunk of all the problems, rounds of 8 (one round per probed step: the early exit then
  only saves what a witnessed step's siblings would have cost, and fewer, fuller batches win on a CPU),
  2,048 sequences per batch, shared-prefix attention (each prompt's KV cache read once for its 8 rollouts), twins
  (a prefix's rollouts that have generated the same tokens so far are one row of the model) and the prompt store
  (a step prefix that is a token prefix of one encoded in an earlier round is not encoded again).

Every solution and rollout is drawn from its own keyed stream, so the two runs must give identical solutions and
hard labels; the benchmark checks it (every run against every other) and fails loudly if not. Both schedules first
annotate 8 dev problems untimed (torch's first calls in a process are slow); then each is timed ``--repeats`` times in
the order before, after, after, before, and the fastest run of each is reported. Run it on a quiet machine. Writes
``OUT/annotation_throughput.json``.

``--baseline REV`` also times the annotation code of git revision ``REV`` (extracted with ``git archive`` into a
scratch folder and run in a subprocess with that tree first on ``PYTHONPATH``; models loaded, a warm-up, then
``--repeats`` timed runs, before the others) under the ``before`` schedule: the code as it was, not only its
schedule. Its labels cannot equal the others' (it seeds by chunk, not by sample), so its label statistics are
reported beside theirs instead.

It also measures, in one more untimed run of ``after``, what stopping a probe's other rollouts as soon as one of
them finishes correct would save (the "sibling stop" an early-exit probe could use; labels would stay the same): the
rollout tokens each witnessed prefix's rollouts generate after its first correct one has finished.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

SCHEDULES = {
    "before": {
        "chunk_size": 40,
        "round_size": 2,
        "batch_size": 1024,
        "backend_options": {"shared_prefix": False, "twins": False, "prompt_cache_mb": 0},
    },
    "after": {
        "chunk_size": None,
        "round_size": 8,
        "batch_size": 2048,
        "backend_options": {"shared_prefix": True, "twins": True, "prompt_cache_mb": 1024},
    },
}


def demo_models(demo: Path, preset: str) -> tuple[str, str]:
    """The policy and completer folders of a demo run (from its ``details.json``)."""
    details = json.loads((demo / "details.json").read_text())[preset]
    return details["policy"], details["completer"]


class RecordingCompleter:
    """Passes calls to a completer and keeps, per prompt, its continuations and their token counts."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[tuple[list[str], object]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def complete(self, prompts, n=1, **sampling):
        output = self.inner.complete(prompts, n, **sampling)
        self.calls.append((list(prompts), output))
        return output


def sibling_stop_bound(policy: str, completer: str, problems: int, folder: Path, preset: str = "arith-easy") -> dict:
    """Rollout tokens a sibling stop would save on the ``after`` schedule (see the module's docstring)."""
    from verikit import components
    from verikit.annotation.driver import Annotator, annotate

    config = schedule_config("after", policy, completer, problems, "train", preset)
    annotator = Annotator(config)
    recorder = RecordingCompleter(annotator.completer)
    annotator.completer = recorder
    annotate(config, folder / "sibling-bound", progress=False, annotator=annotator)
    dataset = components.load_dataset(config.dataset, split="train", limit=problems)
    domain = components.domain(dataset[0].domain)
    checker = components.answer_checker(domain.answer_checker)
    golds = {domain.prompt(p): p.gold_answer for p in dataset}
    total = saved = prefixes = witnessed = 0
    for prompts, output in recorder.calls:
        for prompt, continuations, counts in zip(prompts, output, output.token_counts):
            problem_prompt = max((q for q in golds if prompt.startswith(q)), key=len)
            prefix = prompt[len(problem_prompt) :]
            verdicts = [checker.is_correct(prefix + c, golds[problem_prompt]) for c in continuations]
            prefixes += 1
            total += sum(counts)
            if any(verdicts):
                witnessed += 1
                first = min(count for count, good in zip(counts, verdicts) if good)
                saved += sum(max(0, count - first) for count in counts)
    result = {
        "probed_prefixes": prefixes,
        "witnessed_prefixes": witnessed,
        "rollout_tokens": total,
        "tokens_after_first_correct": saved,
        "fraction_saved": round(saved / max(1, total), 4),
    }
    print(
        f"sibling stop: {witnessed:,} of {prefixes:,} probed prefixes witnessed; it would save {saved:,} of {total:,} "
        f"rollout tokens ({result['fraction_saved']:.1%})",
        flush=True,
    )
    return result


#: The baseline's annotation, run in a subprocess on the baseline's own code (it cannot import this module).
BASELINE_SCRIPT = """
import json, shutil, sys, time
from pathlib import Path
from verikit.annotation.config import AnnotationConfig
from verikit.annotation.driver import Annotator, annotate
from verikit.annotation.storage import load_records
settings, repeats, folder = json.loads(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
known = AnnotationConfig.model_fields  # a setting newer than the baseline's code (one generator then) is left out
if "generator" in settings and isinstance(settings["generator"], list) and known["generator"].annotation is str:
    settings["generator"] = settings["generator"][0]
settings = {k: v for k, v in settings.items() if k in known}
def run(split, limit, out):
    chunk = min(settings["chunk_size"], limit)
    config = AnnotationConfig(**{**settings, "split": split, "limit": limit, "chunk_size": chunk})
    annotator = Annotator(config)
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = annotate(config, out, progress=False, annotator=annotator)
    seconds = time.perf_counter() - started
    return summary, seconds, load_records(out)
run("dev", 8, folder / "warm-up")
runs = [run("train", settings["limit"], folder / "train") for _ in range(repeats)]
summary, _, records = runs[-1]
print(json.dumps({"all_seconds": [round(s, 1) for _, s, _ in runs], "solutions": summary.solutions,
                  "rollouts_generated": summary.rollouts_generated, "rollout_tokens": summary.rollout_tokens,
                  "labels": [[r["problem_id"], r["sample_index"], r["hard_labels"], r["final_correct"]]
                             for r in records]}))
"""


def extract_revision(revision: str, folder: Path) -> Path:
    """The tree of git revision ``revision`` of this repository, extracted into ``folder`` (``git archive``)."""
    repository = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(repository), "archive", "--format=tar", revision], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"--baseline {revision}: git archive failed: {archive.stderr.decode().strip()}")
    tree = folder / f"baseline-{revision}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def revision_pythonpath(tree: Path) -> str:
    """``PYTHONPATH`` that imports an extracted tree's verikit and its bundled plugins before the installed ones."""
    return os.pathsep.join([str(tree)] + sorted(str(p) for p in (tree / "plugins").glob("*") if p.is_dir()))


def run_baseline(
    revision: str, policy: str, completer: str, problems: int, repeats: int, folder: Path, preset: str = "arith-easy"
) -> dict:
    """The ``before`` schedule on git revision ``revision``'s code: its figures and label statistics."""
    tree = extract_revision(revision, folder)
    settings = schedule_config("before", policy, completer, problems, "train", preset).model_dump()
    settings["backend_options"] = {}  # the baseline's completer had no shared-prefix switch
    env = {**os.environ, "PYTHONPATH": revision_pythonpath(tree)}
    done = subprocess.run(
        [sys.executable, "-c", BASELINE_SCRIPT, json.dumps(settings), str(repeats), str(folder / "baseline-runs")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    )
    if done.returncode != 0:
        raise SystemExit(f"--baseline {revision}: its annotation failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    labels = result.pop("labels")
    seconds = min(result["all_seconds"])
    figures = {
        "revision": revision,
        "schedule": {**SCHEDULES["before"], "backend_options": {}},
        "seconds": seconds,
        "solutions_per_minute": round(60 * result["solutions"] / seconds),
        **result,
        **label_statistics([(hard, final) for _, _, hard, final in labels]),
    }
    print(
        f"baseline {revision}: {result['solutions']} solutions in {seconds:.1f} s = "
        f"{figures['solutions_per_minute']:,} per "
        f"minute (runs: {result['all_seconds']}; {result['rollouts_generated']:,} rollouts)",
        flush=True,
    )
    return figures


def label_statistics(records: list[tuple[list[bool], bool | None]]) -> dict:
    """What a run's labels look like, for runs whose labels cannot be compared one by one."""
    steps = [label for hard, _ in records for label in hard]
    return {
        "labelled_steps": len(steps),
        "positive_steps": sum(steps),
        "positive_step_fraction": round(sum(steps) / max(1, len(steps)), 4),
        "correct_solution_fraction": round(sum(1 for _, final in records if final) / max(1, len(records)), 4),
    }


def schedule_config(name: str, policy: str, completer: str, problems: int, split: str, preset: str = "arith-easy"):
    """The annotation configuration of schedule ``name``: the annotation of recipe ``preset`` (its dataset, samples
    per problem, N, strategy, estimator, temperatures, token budget and seed) under the schedule's chunks, rounds
    and batches, on ``problems`` problems of ``split``."""
    from verikit.annotation.config import AnnotationConfig, AnnotationSettings
    from verikit.pipeline.recipe import load_recipe

    annotate = load_recipe(preset)[0].annotate
    schedule = SCHEDULES[name]
    settings = annotate.model_dump(include=set(AnnotationSettings.model_fields))  # the recipe's, then the schedule's
    settings.update(
        chunk_size=schedule["chunk_size"] or problems,
        round_size=schedule["round_size"],
        batch_size=schedule["batch_size"],
    )
    return AnnotationConfig(
        **settings,
        dataset=annotate.datasets[0].name,
        split=split,
        limit=problems,
        generator=policy,
        completer=completer,
        device="cpu",
        backend_options=schedule["backend_options"],
    )


def run_schedule(
    name: str,
    policy: str,
    completer: str,
    problems: int,
    folder: Path,
    split: str = "train",
    preset: str = "arith-easy",
) -> tuple[dict, dict]:
    """One annotation run under schedule ``name``: its figures and its labels by (problem, sample)."""
    from verikit.annotation.driver import Annotator, annotate
    from verikit.annotation.storage import load_records

    schedule = SCHEDULES[name]
    config = schedule_config(name, policy, completer, problems, split, preset)
    annotator = Annotator(config)  # models load before the clock starts
    out = folder / f"{name}-{split}"
    started = time.perf_counter()
    summary = annotate(config, out, progress=False, annotator=annotator)
    seconds = time.perf_counter() - started
    records = load_records(out)
    labels = {(r["problem_id"], r["sample_index"]): (r["solution"], r["hard_labels"]) for r in records}
    figures = {
        "schedule": dict(schedule),
        "solutions": summary.solutions,
        "seconds": round(seconds, 1),
        "solutions_per_minute": round(60 * summary.solutions / seconds),
        "rollouts_generated": summary.rollouts_generated,
        "rollout_tokens": summary.rollout_tokens,
        **label_statistics([(r["hard_labels"], r["final_correct"]) for r in records]),
    }
    print(
        f"{name:>6} ({split}): {summary.solutions} solutions in {seconds:.1f} s = {figures['solutions_per_minute']:,} "
        f"per minute "
        f"({summary.rollouts_generated:,} rollouts, {summary.rollout_tokens:,} rollout tokens)",
        flush=True,
    )
    return figures, labels


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.annotation_throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--demo", type=Path, required=True, help="A verikit demo folder (its policy and completer).")
    parser.add_argument(
        "--preset",
        default="arith-easy",
        help="The demo preset: its models (from the demo's details.json) and its recipe's annotation settings.",
    )
    parser.add_argument(
        "--problems", type=int, default=400, help="Train problems (x 4 solutions); the demo annotates 400."
    )
    parser.add_argument("--repeats", type=int, default=2, help="Timed runs of each schedule (the fastest is reported).")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="Also time the annotation code of this git revision (e.g. "
        "c1c38c5, the code before per-sample seeds) under the before schedule.",
    )
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/annotation_throughput"))
    args = parser.parse_args(argv)
    policy, completer = demo_models(args.demo, args.preset)
    scratch = Path(tempfile.mkdtemp(prefix="verikit-throughput-"))
    baseline = None
    try:
        if args.baseline:  # first, in its own process, while this one has loaded nothing
            baseline = run_baseline(args.baseline, policy, completer, args.problems, args.repeats, scratch, args.preset)
        for name in SCHEDULES:  # warm-up (dev problems, not timed): the first run in a process pays torch's start-up
            run_schedule(name, policy, completer, 8, scratch, split="dev", preset=args.preset)
        runs = {"before": [], "after": []}
        order = (
            ["before", "after", "after", "before"][: 2 * args.repeats]
            if args.repeats <= 2
            else ["before", "after"] * args.repeats
        )
        for name in order:  # before, after, after, before: a drift in the machine's speed hits both alike
            shutil.rmtree(scratch / f"{name}-train", ignore_errors=True)
            runs[name].append(run_schedule(name, policy, completer, args.problems, scratch, preset=args.preset))
        (before, before_labels), (after, after_labels) = (
            min(runs[name], key=lambda r: r[0]["seconds"]) for name in ("before", "after")
        )
        before["all_seconds"] = [r[0]["seconds"] for r in runs["before"]]
        after["all_seconds"] = [r[0]["seconds"] for r in runs["after"]]
        identical = all(labels == runs["before"][0][1] for name in runs for _, labels in runs[name])
        sibling_stop = sibling_stop_bound(policy, completer, args.problems, scratch, args.preset)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "problems": args.problems,
        "before": before,
        "after": after,
        "speedup": round(before["seconds"] / after["seconds"], 2),
        "identical_solutions_and_labels": identical,
        "sibling_stop_bound": sibling_stop,
    }
    if baseline is not None:
        result["baseline"] = baseline
        result["speedup_over_baseline"] = round(baseline["seconds"] / after["seconds"], 2)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "annotation_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"speed-up {result['speedup']:.2f}x; identical solutions and hard labels: {identical} "
        f"(wrote {args.out / 'annotation_throughput.json'})"
    )
    if baseline is not None:
        print(
            f"speed-up over {args.baseline}'s code: {result['speedup_over_baseline']:.2f}x; + steps: "
            f"{baseline['positive_step_fraction']:.1%} there, {after['positive_step_fraction']:.1%} here; correct "
            f"solutions: {baseline['correct_solution_fraction']:.1%} there, {after['correct_solution_fraction']:.1%} "
            f"here"
        )
    if not identical:
        differing = sum(before_labels.get(k) != v for k, v in after_labels.items())
        raise SystemExit(
            f"the runs gave different labels (before vs after: {differing} of {len(after_labels)} solutions differ)"
        )
    return result


if __name__ == "__main__":
    main()
