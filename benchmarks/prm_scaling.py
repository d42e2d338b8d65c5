"""The paper's tag-head PRM (and the ORM) by label scale, on the miniature: does more labelled data make it work?

    python -m benchmarks.prm_scaling --demo out/demo [--sizes 1600,6400,25600,100000] [--mc-sizes 1600,6400,25600]
        [--capacity width2@1e-3,depth2] [--out DIR]

Training solutions are the demo policy's own samples on arith-easy train problems (4 per problem, T = 1.0, as the
demo's annotation). Labels: (a) ``gold`` — the exact step labeller (free: the ceiling of what labels can teach),
(b) ``mc`` — hard Monte Carlo estimation by the demo's completer at N = 8 (early-exit schedule, the demo's). The
ORM learns outcome labels (free) at the same sizes. Every model is the paper's form, fine-tuned from the demo's
completer (lr 1e-3; 4 epochs at 1.6k solutions as the demo, 2 at 6.4k, 1 beyond: more data, more steps).

Evaluated on the demo's own test samples (500 problems × 64, already drawn and saved by the demo's sample stage):
step AUC against gold step labels, within-problem pairwise AUC, first-error F1 at τ = 0.5 (the PRM's own +/-
boundary, so nothing is tuned on test), and best-of-64 / SC+RM accuracy against SC with 95% intervals.

Resumable: every sample set, annotation and model lives under ``--out`` and is reused. Writes ``scaling.json``,
``scaling.md`` and ``scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def policy_solutions(policy: str, count: int, folder: Path, seed: int = 0) -> list[dict]:
    """``count`` policy samples (4 per train problem), with gold step labels; cached in ``folder``."""
    import verikit
    from verikit.format import readable_steps

    path = folder / f"solutions-{count}.json"
    if path.exists():
        return json.loads(path.read_text())
    problems = verikit.load_dataset("arith-easy", split="train", limit=count // 4)
    domain = verikit.domain("arith")
    splitter, checker = verikit.step_splitter(domain.step_splitter), verikit.answer_checker(domain.answer_checker)
    labeller = domain.load_gold_labeller()
    completer = verikit.completer("transformers", model=policy, max_new_tokens=160, batch_size=1024)
    texts = completer.complete([domain.prompt(p) for p in problems], n=4, temperature=1.0, seed=seed)
    rows = []
    for problem, samples in zip(problems, texts):
        for text in samples:
            steps = readable_steps(splitter, text)
            if not steps:
                continue
            rows.append(
                {
                    "question": problem.question,
                    "steps": steps,
                    "gold": [bool(x) for x in labeller(problem, steps)],
                    "correct": checker.is_correct(text, problem.gold_answer),
                }
            )
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows))
    return rows


def mc_examples(policy: str, completer: str, count: int, folder: Path):
    """Hard MC labels (N = 8, early-exit) of ``count`` policy samples, as the demo annotates them."""
    from verikit.annotation.config import AnnotationConfig
    from verikit.annotation.driver import annotate
    from verikit.annotation.storage import load_records
    from verikit.rm.data import load_examples

    out = folder / f"mc-{count}"
    if out.exists() and len(load_records(out)) == count:  # done (the first points ran with chunks of 40, rounds of 2)
        return load_examples(out, "prm", "hard"), load_examples(out, "orm", "hard"), None
    # the demo's schedule (one round of 8 per probed step, large chunks, shared-prefix attention)
    config = AnnotationConfig(
        dataset="arith-easy",
        split="train",
        limit=count // 4,
        generator=policy,
        completer=completer,
        samples_per_problem=4,
        n_rollouts=8,
        strategy="early-exit",
        rollout_temperature=0.7,
        round_size=8,
        chunk_size=400,
        batch_size=2048,
        max_new_tokens=160,
        seed=0,
        deduplicate=False,
    )  # the study's solutions are the demo's: every sample kept
    summary = annotate(config, out)
    return load_examples(out, "prm", "hard"), load_examples(out, "orm", "hard"), summary.seconds


def gold_examples(rows: list[dict], objective: str):
    from verikit.rm.data import ExampleSet, StepExample

    if objective == "prm":
        return ExampleSet(
            [StepExample(r["question"], r["steps"], [float(g) for g in r["gold"]], r["correct"]) for r in rows]
        )
    return ExampleSet(
        [
            StepExample(r["question"], r["steps"], [None] * (len(r["steps"]) - 1) + [float(r["correct"])], r["correct"])
            for r in rows
        ]
    )


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def bigger_completer(
    preset: str, width: int = 1, depth: int = 1, learning_rate: float | None = None
) -> tuple[str, dict]:
    """The demo's completer recipe at ``width`` times its width (hidden and MLP) and ``depth`` times its layers,
    optionally at another learning rate, trained (or found in the cache); its folder and training summary."""
    import dataclasses

    from verikit_arith.training import default_config, train_generator

    config = default_config(preset, "completer")
    config = dataclasses.replace(
        config,
        hidden_size=config.hidden_size * width,
        num_layers=config.num_layers * depth,
        intermediate_size=config.intermediate_size * width,
        learning_rate=learning_rate or config.learning_rate,
    )
    folder = train_generator(preset, config=config, role="completer")
    summary = json.loads((folder / "verikit_generator.json").read_text())
    return str(folder), {
        "base_parameters": summary["parameters"],
        "base_train_seconds": summary["train_seconds"],
        "base_train_loss": summary["train_loss"],
        "base_learning_rate": config.learning_rate,
    }


def capacity_key(spec: str) -> tuple[str, dict]:
    """``width2``, ``depth2``, ``width2@1e-3`` (the completer's learning rate) or ``width2@1e-3/3e-4`` (and the
    PRM's, default 1e-3) → its result key and settings."""
    shape, _, rates = spec.partition("@")
    rate, _, prm_rate = rates.partition("/")
    kind, factor = shape.rstrip("0123456789"), shape[len(shape.rstrip("0123456789")) :]
    if kind not in ("width", "depth") or not factor:
        raise ValueError(
            f"capacity {spec!r}: write width<k> or depth<k>, optionally @<learning rate>[/<PRM learning rate>]"
        )
    settings = {kind: int(factor), "learning_rate": float(rate) if rate else None}
    key = f"prm-gold-{kind}{factor}x" + (f"-lr{rate}" if rate else "") + (f"-prm-lr{prm_rate}" if prm_rate else "")
    return key, {"base": settings, "prm_learning_rate": float(prm_rate) if prm_rate else 1e-3}


def epochs_for(size: int) -> float:
    return 4.0 if size <= 1600 else 2.0 if size <= 6400 else 1.0


def train(base: str, examples, objective: str, size: int, out: Path, learning_rate: float = 1e-3) -> float:
    from verikit.models import RM_MANIFEST
    from verikit.rm.config import PRMConfig
    from verikit.rm.training import train_reward_model

    if (out / RM_MANIFEST).exists():
        return json.loads((out / RM_MANIFEST).read_text())["train_seconds"]
    config = PRMConfig(
        base=base, objective=objective, labels="hard", learning_rate=learning_rate, epochs=epochs_for(size)
    )
    return train_reward_model(config, examples, out, progress=False)["train_seconds"]


def evaluate(model: Path, ws, ref, n: int = 64) -> dict:
    """Every figure of the module docstring for one reward model on the demo's test samples."""
    from verikit.bon import bon_curves, gather_samples, set_scores, within_problem_pairwise_auc
    from verikit.components import load_scorer
    from verikit.metrics import first_error, first_error_scores, roc_auc
    from verikit.pipeline.stages.sample import load_samples
    from verikit.rm.scorer import score_unique

    problems, _, samples = load_samples(ws, ref)
    domain = ws.domain(problems)
    checker, splitter = ws.checker_and_splitter(domain)
    entries, readable, _ = gather_samples(problems, samples, checker, splitter)
    scores = score_unique(
        load_scorer(model, batch_size=64), [r.question for r in readable], [r.steps for r in readable]
    )
    set_scores(entries, readable, scores, "rm", "min")
    labeller = domain.load_gold_labeller()
    seen, flat_scores, flat_gold, firsts, step_lists = set(), [], [], [], []
    for sample, steps_scores in zip(readable, scores):
        key = (sample.question, tuple(sample.steps))
        if key in seen:
            continue
        seen.add(key)
        gold = labeller(problems[sample.problem_index], sample.steps)
        flat_scores += steps_scores
        flat_gold += gold
        firsts.append(first_error(gold))
        step_lists.append(steps_scores)
    curves = bon_curves(
        entries,
        {"sc": ("self-consistency", None), "rm": ("best-of-n", "rm"), "sc+rm": ("sc+rm", "rm")},
        [n],
        repeats=20,
    )
    return {
        "step_auc": roc_auc(flat_scores, flat_gold),
        "pairwise_auc": within_problem_pairwise_auc(entries, "rm"),
        "first_error_f1": first_error_scores(firsts, step_lists, 0.5)["first_error_f1"],
        **{name: curves[name][n] for name in ("sc", "rm", "sc+rm")},
    }


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, points in results.items():
        sizes = sorted(points, key=int)
        left.plot([int(s) for s in sizes], [points[s]["pairwise_auc"] for s in sizes], marker="o", label=key)
        acc = [100 * points[s]["rm"]["acc"] for s in sizes]
        low = [100 * points[s]["rm"]["ci_low"] for s in sizes]
        high = [100 * points[s]["rm"]["ci_high"] for s in sizes]
        right.errorbar(
            [int(s) for s in sizes],
            acc,
            yerr=[[a - lo for a, lo in zip(acc, low)], [h - a for a, h in zip(acc, high)]],
            marker="o",
            capsize=3,
            label=f"best-of-64, {key}",
        )
    sc = next(iter(next(iter(results.values())).values()))["sc"]
    right.axhspan(100 * sc["ci_low"], 100 * sc["ci_high"], color="grey", alpha=0.2, label="SC@64 (95% interval)")
    for axis, label in ((left, "within-problem pairwise AUC"), (right, "test accuracy at N=64 (%)")):
        axis.set_xscale("log")
        axis.set_xlabel("training solutions")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle("The paper's reward models by label scale (arith-easy miniature)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    from verikit.pipeline.recipe import Recipe
    from verikit.pipeline.workspace import Workspace

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.prm_scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--demo", type=Path, required=True, help="A verikit demo folder (its models and test samples).")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--sizes", default="1600,6400,25600", help="Training solutions for gold labels and the ORM.")
    parser.add_argument("--mc-sizes", default="1600,6400", help="Training solutions for MC labels (N=8; costly).")
    parser.add_argument(
        "--capacity",
        default="",
        help="Verifier capacity: comma list of width<k> / depth<k> multipliers "
        "of the completer, each optionally @<its learning rate>[/<the PRM's>] (e.g. width2@1e-3/3e-4,depth2); each is "
        "trained "
        "like the demo's completer, then a gold-label PRM at --capacity-size solutions is fine-tuned from it.",
    )
    parser.add_argument("--capacity-size", type=int, default=1600)
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/prm_scaling"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    run = args.demo / args.preset
    recipe = Recipe(**json.loads((run / "recipe.json").read_text())["recipe"])
    ws = Workspace(recipe, run)
    ws.load_models()
    ref = recipe.sample.datasets[0]
    policy, completer = ws.model("policy"), ws.model("completer")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    mc_sizes = [int(s) for s in args.mc_sizes.split(",") if s]
    path = args.out / "scaling.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    rows = policy_solutions(policy, max(sizes), args.out) if sizes else []
    try:
        capacities = dict(capacity_key(spec) for spec in args.capacity.split(",") if spec)
    except ValueError as exc:
        parser.error(str(exc))
    plan = [("prm-gold", s) for s in sizes] + [("orm", s) for s in sizes] + [("prm-mc", s) for s in mc_sizes]
    plan += [(key, args.capacity_size) for key in capacities]
    if capacities:
        rows = rows if len(rows) >= args.capacity_size else policy_solutions(policy, args.capacity_size, args.out)
    for key, size in plan:
        if str(size) in results.get(key, {}):
            continue
        step = time.perf_counter()
        extra = {}
        if key == "prm-mc":
            examples, _, seconds = mc_examples(policy, completer, size, args.out)
            extra["annotation_seconds"] = seconds
        else:
            examples = gold_examples(rows[:size], "prm" if key == "prm-gold" else "orm")
        model = args.out / f"{key}-{size}"
        base, learning_rate = completer, 1e-3
        if key in capacities:
            base, summary = bigger_completer(args.preset, **capacities[key]["base"])
            learning_rate = capacities[key]["prm_learning_rate"]
            extra.update(summary, prm_learning_rate=learning_rate)
        extra["train_seconds"] = train(base, examples, "orm" if key == "orm" else "prm", size, model, learning_rate)
        results.setdefault(key, {})[str(size)] = {
            **evaluate(model, ws, ref, recipe.sample.samples),
            **extra,
            "examples": len(examples.examples),
        }
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
        point = results[key][str(size)]
        print(
            f"{key} @ {size}: step AUC {_fmt(point['step_auc'])}  pairwise {_fmt(point['pairwise_auc'])}  "
            f"best-of-64 {100 * point['rm']['acc']:.1f} [{100 * point['rm']['ci_low']:.1f}, "
            f"{100 * point['rm']['ci_high']:.1f}]  "
            f"SC {100 * point['sc']['acc']:.1f}  ({time.perf_counter() - step:.0f}s)",
            flush=True,
        )
    plot(results, args.out / "scaling.png")
    lines = [
        "| reward model | solutions | step AUC | pairwise AUC | first-error F1 (τ=0.5) | best-of-64 % [95%] | SC+RM % "
        "| SC % |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    for key, points in results.items():
        for size in sorted(points, key=int):
            p = points[size]
            lines.append(
                f"| {key} | {int(size):,} | {_fmt(p['step_auc'])} | {_fmt(p['pairwise_auc'])} | "
                f"{_fmt(p['first_error_f1'])} | "
                f"{100 * p['rm']['acc']:.1f} [{100 * p['rm']['ci_low']:.1f}, {100 * p['rm']['ci_high']:.1f}] | "
                f"{100 * p['sc+rm']['acc']:.1f} | {100 * p['sc']['acc']:.1f} |"
            )
    (args.out / "scaling.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.out}/scaling.json, scaling.md, scaling.png ({(time.perf_counter() - started) / 60:.1f} min)")
    return results


if __name__ == "__main__":
    main()
