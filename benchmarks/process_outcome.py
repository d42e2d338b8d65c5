"""Right answers through wrong steps: how a run's reward models rank by outcome and by process.

    python -m benchmarks.process_outcome --run out/demo/arith-easy [--out DIR]

The demo grades a solution by its final answer, as the paper does. A policy can reach the gold answer through a
wrong step (``63-1=66`` then ``66-2=61`` when the answer is 61); a PRM that sees the step scores such a solution low
and, graded by outcome, is counted wrong for it. This benchmark reads a run's saved samples and scores (nothing is
sampled or scored again) and labels every sample twice: by **outcome** (the domain's checker: the answer is the
gold) and by **process** (the arith domain's exact labeller, :func:`verikit_arith.labeller.step_correctness`: the
answer is the gold *and* every step is a correct, legal move). It reports

* how many right answers come through a wrong step, by the kind of the first wrong step (``slip``: a false
  equation; ``illegal``: a true equation that is not a legal move there; ``unreadable``: a line that is not a step);
* every reward model's within-problem pairwise AUC against outcome (the demo's figure) and against process, and
  that of a perfect judge of the steps: the exact process labels as scores (1 right through right steps, else 0),
  graded by outcome — what judging every step right, and giving no credit for a right answer reached through a
  wrong step, scores on the demo's measure;
* every row of the run's table at N (best-of-N, SC, SC+RM): its accuracy, and how often its pick is right through
  right steps.

Writes ``process_outcome.json`` and ``process_outcome.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

#: the pseudo reward model that scores a sample 1 when it is right through right steps, else 0
EXACT_PROCESS = "exact-process-labels"


def first_wrong_kind(step: str) -> str:
    """``slip`` (a false equation), ``illegal`` (a true one the labeller rejects as a move) or ``unreadable``."""
    from verikit_arith.expressions import apply
    from verikit_arith.labeller import parse_step

    parsed = parse_step(step.strip())
    if parsed is None:
        return "unreadable"
    _, left, operator, right, result = parsed
    value = apply(left, operator, right)
    return "illegal" if value is not None and value == result else "slip"


def process_labels(problems, texts, splitter, outcome) -> tuple[list[list[bool]], Counter]:
    """Per problem, per sample: right through right steps (``outcome`` right and every step a correct, legal move);
    and the kinds of the first wrong step of the samples whose outcome is right but whose steps are not."""
    from verikit.format import readable_steps
    from verikit_arith.labeller import step_correctness

    labels, kinds = [], Counter()
    for problem, samples, answers_right in zip(problems, texts, outcome, strict=True):
        row = []
        for text, answer_right in zip(samples, answers_right, strict=True):
            steps = readable_steps(splitter, text)
            verdicts = step_correctness(problem, steps) if steps else [False]
            row.append(answer_right and all(verdicts))
            if answer_right and not all(verdicts):
                kinds[first_wrong_kind(steps[verdicts.index(False)]) if steps else "unreadable"] += 1
        labels.append(row)
    return labels, kinds


def relabelled(entries, labels):
    """The entries with ``correct`` replaced by the process labels (scores and answers kept)."""
    from verikit.bon import ProblemSamples

    return [ProblemSamples(e.answers, list(row), e.scores) for e, row in zip(entries, labels, strict=True)]


def measure(run: Path) -> dict:
    from verikit.bon import ProblemSamples, selection_verdicts, within_problem_pairwise_auc
    from verikit.components import selector
    from verikit.pipeline.recipe import Recipe
    from verikit.pipeline.stages.select import dataset_methods, scored_entries
    from verikit.pipeline.workspace import Workspace

    recipe = Recipe(**json.loads((run / "recipe.json").read_text())["recipe"])
    if recipe.domain != "arith":  # the exact step labels exist only for the arith domain
        raise ValueError(f"{run}: a run of the {recipe.domain!r} domain; process labels are exact only for 'arith'")
    ws = Workspace(recipe, run)
    ws.load_models()
    results = {}
    for ref in recipe.sample.datasets:
        problems, _, texts, entries, _ = scored_entries(ws, ref)
        _, splitter = ws.checker_and_splitter(ws.domain(problems))
        labels, kinds = process_labels(problems, texts, splitter, [e.correct for e in entries])
        by_process = relabelled(entries, labels)
        right = sum(sum(e.correct) for e in entries)
        faithful = sum(sum(row) for row in labels)
        models = sorted(entries[0].scores) if entries else []
        # a perfect judge of the steps, graded by outcome: a right answer through a wrong step ties with the wrong
        # answers, so this is what seeing every step costs on the demo's measure
        judged = [
            ProblemSamples(e.answers, e.correct, {EXACT_PROCESS: [float(ok) for ok in row]})
            for e, row in zip(entries, labels, strict=True)
        ]
        rows = {}
        for row, (name, model) in dataset_methods(ws, ref).items():
            choose = selector(name)
            outcome = selection_verdicts(entries, choose, model)
            process = selection_verdicts(by_process, choose, model)
            rows[row] = {
                "accuracy": round(sum(outcome) / len(outcome), 4),
                "right_through_right_steps": round(sum(process) / len(process), 4),
            }
        results[ref.key] = {
            "problems": len(problems),
            "samples": sum(len(e.correct) for e in entries),
            "right_answers": right,
            "right_through_a_wrong_step": right - faithful,
            "share_of_right_answers_through_a_wrong_step": round((right - faithful) / right, 4) if right else None,
            "first_wrong_step_kinds": dict(kinds.most_common()),
            "exact_process_labels_pairwise_auc_by_outcome": _rounded(
                within_problem_pairwise_auc(judged, EXACT_PROCESS)
            ),
            "pairwise_auc": {
                model: {
                    "outcome": _rounded(within_problem_pairwise_auc(entries, model)),
                    "process": _rounded(within_problem_pairwise_auc(by_process, model)),
                }
                for model in models
            },
            "table": rows,
        }
    return results


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def markdown(results: dict, run: Path) -> str:
    from benchmarks.tag_head_study import shown

    lines = [f"# Outcome and process: {run}", ""]
    for key, r in results.items():
        share = r["share_of_right_answers_through_a_wrong_step"]
        lines += [
            f"## {key}: {r['problems']} problems, {r['samples']} samples",
            "",
            f"{r['right_answers']} right answers, {r['right_through_a_wrong_step']} of them through a wrong step"
            + (f" ({share:.1%}); first wrong step: {r['first_wrong_step_kinds']}" if share is not None else ""),
            "",
            f"The exact process labels as scores reach a pairwise AUC of "
            f"{shown(r['exact_process_labels_pairwise_auc_by_outcome'])} by outcome (a perfect judge of the steps).",
            "",
            "| reward model | pairwise AUC, outcome | pairwise AUC, process |",
            "| --- | --- | --- |",
        ]
        for model, auc in r["pairwise_auc"].items():
            lines.append(f"| {model} | {shown(auc['outcome'])} | {shown(auc['process'])} |")
        lines += ["", "| row | accuracy | right through right steps |", "| --- | --- | --- |"]
        for row, figures in r["table"].items():
            lines.append(
                f"| {row} | {100 * figures['accuracy']:.1f} | {100 * figures['right_through_right_steps']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.process_outcome",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--run", type=Path, required=True, help="A pipeline run's folder (the demo's: out/demo/arith-easy)."
    )
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/process_outcome"))
    args = parser.parse_args(argv)
    if not (args.run / "recipe.json").exists():
        parser.error(f"{args.run} is not a pipeline run (no recipe.json)")
    started = time.perf_counter()
    try:
        results = measure(args.run)
    except ValueError as error:
        parser.error(str(error))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "process_outcome.json").write_text(
        json.dumps(
            {"run": str(args.run), "results": results, "seconds": round(time.perf_counter() - started, 1)}, indent=1
        )
        + "\n"
    )
    text = markdown(results, args.run)
    (args.out / "process_outcome.md").write_text(text)
    print(text)
    return results


if __name__ == "__main__":
    main()
