"""Why the paper's tag-head PRM is blind on the miniature: the same head, trained on different data and settings.

    python -m benchmarks.tag_head_study --run out/demo/arith-easy [--experiments NAME,…] [--out DIR]

Every experiment fine-tunes the tag head (the paper's form: ``+``/``-`` at ``ки``, tag loss only unless said)
from the demo's completer and records the contrastive probe on the dev split (600 pairs of
:mod:`verikit_arith.edits`) every ``--every`` optimiser steps: the training curve of "does it see the step".
At the end each model is judged on data nobody tuned on: the probe on the test split (every edit kind) and, on
the policy's own dev samples (300 problems x 32, T = 0.6), the within-problem pairwise AUC and step AUC against
exact labels. Training data:

* ``demo-mc`` — the demo's annotation (1,600 policy solutions, hard MC labels); ``demo-mc-first`` the same labels
  up to each solution's first ``-`` (the later tags, all ``-`` under hard estimation, carry no loss);
* ``policy-gold`` — 10,000 policy solutions (2,500 train problems x 4, T = 1) with exact labels;
* ``narrow-edits`` — 20,000 train problems: 30% reference solutions, 70% a reference prefix whose last step is
  edited (result off by one, a wrong operand, another operator; labels known by construction; the probe's other
  kinds, results off by more, out-of-order steps and final answers, are never shown);
* ``scripted`` — 20,000 reference solutions of which 70% carry one mistake of the domain's mistake model
  (:mod:`verikit_arith.mistakes`, at a uniformly drawn step, continued from the wrong state), exact labels;
  ``scripted-first`` trains only up to the first ``-`` (the later tags, all ``-``, carry no loss).

``--base DIR`` starts every head from another base than the run's ``reward_model_base`` (the study of issue 35 used
the verifier base of :mod:`verikit_arith.verifier`); the ``@1e-4`` and ``@3e-5x8`` experiments were added for it.

Resumable: each model is kept under ``--out`` and not trained again. Writes ``study.json``, ``study.md`` and
``study.png`` (the curves).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

EXPERIMENTS = {
    "demo-mc@1e-3": ("demo-mc", {"learning_rate": 1e-3, "epochs": 4}),
    "demo-mc@3e-4": ("demo-mc", {"learning_rate": 3e-4, "epochs": 4}),
    "demo-mc@1e-4": ("demo-mc", {"learning_rate": 1e-4, "epochs": 4}),
    "demo-mc@1e-4x8": ("demo-mc", {"learning_rate": 1e-4, "epochs": 8}),
    "demo-mc-first@1e-4": ("demo-mc-first", {"learning_rate": 1e-4, "epochs": 4}),
    "demo-mc@3e-5x8": ("demo-mc", {"learning_rate": 3e-5, "epochs": 8}),
    "demo-mc@1e-4x8+untied": ("demo-mc", {"learning_rate": 1e-4, "epochs": 8, "untie_embeddings": True}),
    "demo-mc-first@1e-4x8": ("demo-mc-first", {"learning_rate": 1e-4, "epochs": 8}),
    "demo-mc-first@1e-4x2": ("demo-mc-first", {"learning_rate": 1e-4, "epochs": 2}),
    "policy-gold@3e-4": ("policy-gold", {"learning_rate": 3e-4, "epochs": 8}),
    "narrow-edits@1e-3": ("narrow-edits", {"learning_rate": 1e-3, "epochs": 2}),
    "narrow-edits@1e-3+lm": ("narrow-edits", {"learning_rate": 1e-3, "epochs": 2, "lm_loss_weight": 1.0}),
    "narrow-edits@3e-4": ("narrow-edits", {"learning_rate": 3e-4, "epochs": 4}),
    "scripted@3e-4": ("scripted", {"learning_rate": 3e-4, "epochs": 4}),
    "scripted-first@3e-4": ("scripted-first", {"learning_rate": 3e-4, "epochs": 4}),
    "demo-mc-first@1e-3": ("demo-mc-first", {"learning_rate": 1e-3, "epochs": 4}),
    "demo-mc-first@1e-3+lm": ("demo-mc-first", {"learning_rate": 1e-3, "epochs": 4, "lm_loss_weight": 1.0}),
    "demo-mc-first@3e-4+lm": ("demo-mc-first", {"learning_rate": 3e-4, "epochs": 8, "lm_loss_weight": 1.0}),
}


def _narrow_edit(problem, rng: random.Random):
    """The reference prefix up to a random step, that step edited in one of three ways; None if none fits."""
    from verikit_arith.edits import contrastive_edits

    pairs = list(contrastive_edits(problem, rng, kinds=("result-1", "operand", "operation")))
    return rng.choice(pairs) if pairs else None


def training_examples(source: str, run: Path, folder: Path, sizes: dict):
    """The :class:`~verikit.rm.data.ExampleSet` of one data source (cached as JSON in ``folder``)."""
    from verikit.rm.data import ExampleSet, StepExample, load_examples, up_to_first_error

    if source in ("demo-mc", "demo-mc-first"):
        examples = load_examples(run / "annotations" / "arith-easy-train", "prm", "hard")
        if source == "demo-mc-first":  # the same MC labels up to the first '-': later tags carry no loss
            examples.examples = [up_to_first_error(e) for e in examples.examples]
        return examples
    cache = folder / f"data-{source}-{sizes['train']}-{sizes['policy']}.json"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(_make_rows(source, run, sizes)))
    rows = json.loads(cache.read_text())
    return ExampleSet([StepExample(r["question"], r["steps"], r["targets"], r["correct"]) for r in rows])


def _make_rows(source: str, run: Path, sizes: dict) -> list[dict]:
    import verikit
    from verikit_arith.labeller import step_correctness
    from verikit_arith.problems import canonical_steps, load_split

    rng = random.Random(f"study:{source}")
    rows = []
    if source == "policy-gold":
        from verikit.format import readable_steps

        problems = load_split("arith-easy", "train", limit=sizes["policy"])
        policy = json.loads((run / "models.json").read_text())["policy"]
        completer = verikit.completer("transformers", model=policy, max_new_tokens=160, batch_size=1024)
        texts = completer.complete([f"{p.question}\n" for p in problems], n=4, temperature=1.0, seed=0)
        splitter = verikit.step_splitter("lines")
        checker = verikit.answer_checker("arith")
        for problem, samples in zip(problems, texts):
            for text in samples:
                steps = readable_steps(splitter, text)
                if steps:
                    rows.append(
                        {
                            "question": problem.question,
                            "steps": steps,
                            "correct": checker.is_correct(text, problem.gold_answer),
                            "targets": [float(x) for x in step_correctness(problem, steps)],
                        }
                    )
        return rows
    from verikit.rm.data import first_error_targets
    from verikit_arith.expressions import parse
    from verikit_arith.mistakes import solution_with_mistake

    for problem in load_split("arith-easy", "train", limit=sizes["train"]):
        steps = canonical_steps(parse(problem.metadata["expression"]))
        if rng.random() < 0.3:
            rows.append({"question": problem.question, "steps": steps, "correct": True, "targets": [1.0] * len(steps)})
            continue
        if source == "narrow-edits":
            pair = _narrow_edit(problem, rng)
            if pair is not None:
                rows.append(
                    {
                        "question": problem.question,
                        "steps": list(pair.bad),
                        "correct": False,
                        "targets": [1.0] * (len(pair.bad) - 1) + [0.0],
                    }
                )
            continue
        steps = solution_with_mistake(parse(problem.metadata["expression"]), rng)[0]
        targets = [float(x) for x in step_correctness(problem, steps)]
        if source == "scripted-first":
            targets = first_error_targets(targets)
        rows.append(
            {
                "question": problem.question,
                "steps": steps,
                "correct": all(t in (None, 1.0) for t in targets),
                "targets": targets,
            }
        )
    return rows


def probe_callback(tokenizer, pairs, every: int, curve: list):
    """A TrainerCallback that scores ``pairs`` with the model being trained every ``every`` steps and after the last
    one (so a run shorter than ``every`` still has its end point)."""
    from transformers import TrainerCallback

    from benchmarks.contrastive_probe import ordering, score_pairs
    from verikit.rm.convention import resolve_convention
    from verikit.rm.scorer import TagScorer

    class ProbeCurve(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            last = state.global_step >= state.max_steps
            if state.global_step % every and not last:
                return
            model.eval()
            scorer = TagScorer(
                model, tokenizer, resolve_convention(tokenizer), batch_size=128, device=str(model.device)
            )
            curve.append([state.global_step, ordering(pairs, score_pairs(scorer, pairs))["all"]["ordered"]])
            model.train()

    return ProbeCurve()


def policy_dev_samples(run: Path, folder: Path, problems_count: int = 300) -> list[dict]:
    """Dev problems (300) x 32 policy samples at the demo's temperature, with exact step labels (cached)."""
    cache = folder / f"dev-samples-{problems_count}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    import verikit
    from verikit.format import readable_steps
    from verikit_arith.labeller import step_correctness
    from verikit_arith.problems import load_split

    problems = load_split("arith-easy", "dev", limit=problems_count)
    policy = json.loads((run / "models.json").read_text())["policy"]
    completer = verikit.completer("transformers", model=policy, max_new_tokens=160, batch_size=1024)
    texts = completer.complete([f"{p.question}\n" for p in problems], n=32, temperature=0.6, seed=123)
    splitter, checker = verikit.step_splitter("lines"), verikit.answer_checker("arith")
    rows = []
    for index, (problem, samples) in enumerate(zip(problems, texts)):
        for text in samples:
            steps = readable_steps(splitter, text)
            rows.append(
                {
                    "problem": index,
                    "question": problem.question,
                    "steps": steps,
                    "correct": checker.is_correct(text, problem.gold_answer),
                    "gold": step_correctness(problem, steps) if steps else None,
                }
            )
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(rows))
    return rows


def dev_verification(scorer, rows: list[dict]) -> dict:
    """Within-problem pairwise AUC (min aggregation) and step AUC against exact labels on the policy's dev samples."""
    from verikit.rm.scorer import score_unique

    readable = [r for r in rows if r["steps"]]
    return verification_figures(
        readable, score_unique(scorer, [r["question"] for r in readable], [r["steps"] for r in readable])
    )


def verification_figures(readable: list[dict], scores: list[list[float]]) -> dict:
    """:func:`dev_verification`'s figures from the step scores of ``readable`` (its rows that have steps); None
    where a figure is undefined (no correct/wrong pair, or one class only): JSON has no NaN."""
    from verikit.metrics import aggregate, pairwise_auc, roc_auc

    groups: dict[int, list[int]] = {}
    for index, row in enumerate(readable):
        groups.setdefault(row["problem"], []).append(index)
    solution_scores = {index: aggregate(steps, "min") for index, steps in enumerate(scores)}
    pairwise = pairwise_auc(groups, solution_scores, {index: row["correct"] for index, row in enumerate(readable)})
    step = roc_auc([value for steps in scores for value in steps], [gold for row in readable for gold in row["gold"]])
    return {
        "pairwise_auc": None if pairwise is None else round(pairwise, 4),
        "step_auc": None if step is None else round(step, 4),
    }


def shown(value: float | None) -> str:
    """A figure for the printed tables: three decimals, or n/a where it is undefined."""
    return "n/a" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True, help="The demo's run folder (out/demo/arith-easy).")
    parser.add_argument("--experiments", default=",".join(EXPERIMENTS))
    parser.add_argument("--every", type=int, default=250, help="Optimiser steps between two probe points.")
    parser.add_argument("--train-problems", type=int, default=20000, help="Problems of the edits and scripted sources.")
    parser.add_argument(
        "--policy-problems", type=int, default=2500, help="Train problems x 4 policy samples (policy-gold)."
    )
    parser.add_argument("--probe-problems", type=int, default=500, help="Problems of the dev curve and the test probe.")
    parser.add_argument(
        "--dev-problems", type=int, default=300, help="Dev problems x 32 policy samples for pairwise AUC."
    )
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/tag_head_study"))
    parser.add_argument(
        "--base", default=None, help="The verifier base every head starts from (default: the run's reward_model_base)."
    )
    args = parser.parse_args(argv)
    sizes = {"train": args.train_problems, "policy": args.policy_problems}
    unknown = [e for e in args.experiments.split(",") if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; choose from {', '.join(EXPERIMENTS)}")
    from transformers import AutoTokenizer

    import verikit
    from benchmarks.contrastive_probe import ordering, score_pairs
    from verikit.rm.config import PRMConfig
    from verikit.rm.training import train_reward_model
    from verikit_arith.edits import probe_pairs

    base = args.base or json.loads((args.run / "models.json").read_text())["reward_model_base"]
    tokenizer = AutoTokenizer.from_pretrained(base)
    curve_pairs = probe_pairs("arith-easy", "dev", limit=args.probe_problems)
    random.Random(1).shuffle(curve_pairs)
    curve_pairs = curve_pairs[:600]
    test_pairs = probe_pairs("arith-easy", "test", limit=args.probe_problems)
    dev_rows = policy_dev_samples(args.run, args.out, args.dev_problems)
    summary_path = args.out / "study.json"
    results = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    for name in args.experiments.split(","):
        source, settings = EXPERIMENTS[name]
        folder = args.out / name.replace("@", "-at-")
        if name not in results or not (folder / "verikit_rm.json").exists():
            curve: list = []
            examples = training_examples(source, args.run, args.out, sizes)
            started = time.perf_counter()
            trained = train_reward_model(
                PRMConfig(base=base, objective="prm", **settings),
                examples,
                folder,
                progress=False,
                callbacks=[probe_callback(tokenizer, curve_pairs, args.every, curve)],
            )
            results[name] = {
                "source": source,
                "settings": settings,
                "examples": trained["examples"],
                "steps": trained["global_step"],
                "train_loss": trained["train_loss"],
                "minutes": round((time.perf_counter() - started) / 60, 1),
                "dev_probe_curve": curve,
            }
        scorer = verikit.scorer(folder)
        results[name]["test_probe"] = ordering(test_pairs, score_pairs(scorer, test_pairs))
        results[name]["policy_dev"] = dev_verification(scorer, dev_rows)
        row = results[name]
        print(
            f"{name:<22} curve {' '.join(f'{v:.2f}' for _, v in row['dev_probe_curve'])}  test probe "
            f"{row['test_probe']['all']['ordered']:.3f}  dev pairwise {shown(row['policy_dev']['pairwise_auc'])}  "
            f"step AUC {shown(row['policy_dev']['step_auc'])}",
            flush=True,
        )
        args.out.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(json.dumps(results, indent=1) + "\n")
    lines = [
        "| experiment | examples | optimiser steps | dev probe at the end | test probe (all kinds) | "
        "policy dev pairwise AUC | policy dev step AUC |",
        "| --- " * 7 + "|",
    ]
    for name, row in results.items():
        end = row["dev_probe_curve"][-1][1] if row["dev_probe_curve"] else float("nan")
        lines.append(
            f"| {name} | {row['examples']} | {row['steps']} | {end:.3f} | {row['test_probe']['all']['ordered']:.3f} | "
            f"{shown(row['policy_dev']['pairwise_auc'])} | {shown(row['policy_dev']['step_auc'])} |"
        )
    (args.out / "study.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7.5, 4.2))
    for name, row in results.items():
        if row["dev_probe_curve"]:
            axis.plot(*zip(*row["dev_probe_curve"]), marker=".", label=name)
    axis.axhline(0.5, color="grey", linestyle=":")
    axis.set(
        xlabel="optimiser step",
        ylabel="dev probe: correct step above edited",
        ylim=(0.3, 1.02),
        title="the tag head's training curve on the contrastive probe",
    )
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(args.out / "study.png", dpi=120)
    plt.close(figure)
    print(f"wrote {summary_path}, study.md, study.png")
    return results


if __name__ == "__main__":
    main()
