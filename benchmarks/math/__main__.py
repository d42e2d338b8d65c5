"""Run a Math-Shepherd reproduction recipe stage by stage.

    python -m benchmarks.math run --recipe benchmarks/math/recipes/mistral7b.yaml --stage annotate|train|verify|all [--out DIR]
    python -m benchmarks.math run --recipe benchmarks/math/recipes/mistral7b.yaml --stage all --smoke

Stages write under ``--out`` (default ``out/math/<recipe name>``) and each reads what the previous one
wrote, so they can run on different days or machines: ``annotations/<dataset>/`` (resumable),
``prm/`` and ``orm/``, then ``verify.json`` with the paper's Table 1 columns (SC, ORM, SC+ORM, PRM,
SC+PRM) at N = ``verify.samples``, with 95% intervals from repeated subsampling below that.

``--smoke`` runs every stage on CPU in a few minutes: all four models become one tiny randomly
initialised Mistral with a byte-level BPE tokenizer built here, on 5 real GSM8K and 5 real MATH500
problems from ``$VERIKIT_DATA``, with 2 samples, 2 rollouts and short generations. It checks the
plumbing on the real data and formats, not accuracy.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import verikit
from verikit.annotation.config import AnnotationConfig
from verikit.annotation.driver import annotate
from verikit.bon import bon_curves, gather_samples, set_scores
from verikit.rm.data import ExampleSet, load_examples
from verikit.components import load_scorer
from verikit.rm.config import PRMConfig
from verikit.rm.training import train_reward_model
from verikit.tiny_models import build_tiny_causal_lm

from benchmarks.math.recipe import DatasetSpec, Recipe, load_recipe

STAGES = ("annotate", "train", "verify")
TABLE = {"sc": ("self-consistency", None), "orm": ("best-of-n", "orm"), "sc+orm": ("sc+rm", "orm"),
         "prm": ("best-of-n", "prm"), "sc+prm": ("sc+rm", "prm")}


def smoke_recipe(recipe: Recipe, out: Path) -> Recipe:
    """The recipe shrunk to a CPU plumbing check on 5 + 5 real problems with a tiny local model."""
    texts = []
    for name, split in (("gsm8k", "train"), ("math-train", "train"), ("gsm8k", "test"), ("math500", "test")):
        texts += [p.question + " " + p.gold_answer for p in verikit.load_dataset(name, split=split, limit=50)]
    model = str(build_tiny_causal_lm(out / "smoke-model", texts))
    annotate = recipe.annotate.model_copy(update={
        "datasets": [DatasetSpec(name=d.name, split=d.split, limit=5) for d in recipe.annotate.datasets],
        "samples_per_problem": 2, "n_rollouts": 2, "max_new_tokens": 32, "batch_size": 64})
    verify = recipe.verify.model_copy(update={
        "datasets": [DatasetSpec(name=d.name, split=d.split, limit=5) for d in recipe.verify.datasets],
        "samples": 4, "max_new_tokens": 32, "batch_size": 64})
    train = recipe.train.model_copy(update={"learning_rate": 1e-3, "batch_size": 4, "gradient_accumulation_steps": 1, "max_length": 512})
    return recipe.model_copy(update={"name": recipe.name + "-smoke", "generator": model, "completer": model,
                                     "reward_model_base": model, "policy": model, "annotate": annotate,
                                     "train": train, "verify": verify})


def run_annotate(recipe: Recipe, out: Path) -> dict:
    stage = recipe.annotate
    summaries = {}
    for spec in stage.datasets:
        config = AnnotationConfig(dataset=spec.name, split=spec.split, limit=spec.limit, generator=recipe.generator,
                                  completer=recipe.completer, backend=recipe.backend, samples_per_problem=stage.samples_per_problem,
                                  n_rollouts=stage.n_rollouts, strategy=stage.strategy, estimator=stage.estimator,
                                  temperature=stage.temperature, max_new_tokens=stage.max_new_tokens, batch_size=stage.batch_size)
        summary = annotate(config, out / "annotations" / spec.name)
        summaries[spec.name] = vars(summary)
        print(f"annotated {spec.name}/{spec.split}: {summary.solutions} solutions of {summary.problems} problems, "
              f"{summary.rollouts_generated} rollouts, errors {summary.errors or 'none'}")
    return summaries


def run_train(recipe: Recipe, out: Path) -> dict:
    stage, summaries = recipe.train, {}
    for objective in ("prm", "orm"):
        merged = ExampleSet([])
        for spec in recipe.annotate.datasets:
            part = load_examples(out / "annotations" / spec.name, objective, stage.labels)
            merged.examples += part.examples
            for reason, count in part.skipped.items():
                merged.skip(reason, count)
        config = PRMConfig(base=recipe.reward_model_base, objective=objective, labels=stage.labels,
                           learning_rate=stage.learning_rate, epochs=stage.epochs, batch_size=stage.batch_size,
                           gradient_accumulation_steps=stage.gradient_accumulation_steps, max_length=stage.max_length)
        summary = train_reward_model(config, merged, out / objective)
        summaries[objective] = {k: summary[k] for k in ("examples", "trained_tags", "skipped_records", "train_seconds", "train_loss")}
        print(f"trained {objective.upper()} on {summary['examples']} solutions in {summary['train_seconds']:.0f}s "
              f"(skipped: {summary['skipped_records'] or 'none'})")
    return summaries


def run_verify(recipe: Recipe, out: Path) -> dict:
    stage = recipe.verify
    completer = verikit.completer(recipe.backend, model=recipe.policy, batch_size=stage.batch_size, max_new_tokens=stage.max_new_tokens)
    scorers = {"prm": load_scorer(out / "prm"), "orm": load_scorer(out / "orm")}
    results = {}
    for spec in stage.datasets:
        problems = verikit.load_dataset(spec.name, split=spec.split, limit=spec.limit)
        domain = verikit.domain(problems[0].domain)
        checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
        samples = completer.complete([domain.prompt(p) for p in problems], n=stage.samples, temperature=stage.temperature, seed=0)
        entries, readable, unscorable = gather_samples(problems, samples, checker, splitter)
        for name, scorer in scorers.items():
            scores = scorer.score([r.question for r in readable], [r.steps for r in readable]) if readable else []
            set_scores(entries, readable, scores, name, stage.aggregation)
        ns = [n for n in (1, 4, 16, 64, 256) if n < stage.samples] + [stage.samples]
        curves = bon_curves(entries, TABLE, ns, repeats=20)
        results[spec.name] = {"problems": len(problems), "samples": stage.samples, "unscorable_samples": unscorable,
                              "pass_at_n": sum(any(e.correct) for e in entries) / len(entries), "curves": curves}
        row = "  ".join(f"{m} {100 * curves[m][stage.samples]['acc']:.1f}" for m in TABLE)
        print(f"{spec.name} ({len(problems)} problems, best-of-{stage.samples}): {row}  (pass@{stage.samples} "
              f"{100 * results[spec.name]['pass_at_n']:.1f}; {unscorable} samples without readable steps)")
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.math", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="Run stages of a recipe.")
    run.add_argument("--recipe", type=Path, required=True)
    run.add_argument("--stage", choices=(*STAGES, "all"), default="all")
    run.add_argument("--smoke", action="store_true", help="Tiny local model, 5 + 5 real problems, CPU.")
    run.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe)
    out = args.out or Path("out/math") / (recipe.name + ("-smoke" if args.smoke else ""))
    out.mkdir(parents=True, exist_ok=True)
    if args.smoke:
        recipe = smoke_recipe(recipe, out)
    (out / "recipe.json").write_text(recipe.model_dump_json(indent=2))
    report: dict = {}
    for stage in STAGES if args.stage == "all" else (args.stage,):
        started = time.perf_counter()
        report[stage] = {"annotate": run_annotate, "train": run_train, "verify": run_verify}[stage](recipe, out)
        report[stage + "_seconds"] = round(time.perf_counter() - started, 1)
    path = out / f"report-{args.stage}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
