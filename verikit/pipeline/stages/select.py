"""The select stage: best-of-N curves and the table at N (Table 1's rows), from saved samples and scores only.

Each reward model's step scores become one score per solution by its own aggregation (``min`` for a PRM, the
paper's; ``last`` for an ORM, which is trained at the last tag only). A method may name one reward model per
dataset (the paper: one RM for GSM8K, one for MATH). With several sample sets (``sample.repeats``, the paper's
three samplings) each row is the mean over the sets, its interval a bootstrap over problems of the per-problem
mean, and the per-set accuracies are kept beside it.
"""

from __future__ import annotations

from verikit.bon import (
    bon_curves,
    gather_samples,
    plot_curves,
    selection_verdicts,
    set_scores,
    within_problem_pairwise_auc,
)
from verikit.components import selector
from verikit.metrics import bootstrap_accuracy
from verikit.pipeline.stage import Stage
from verikit.pipeline.stages.sample import load_samples
from verikit.pipeline.stages.score import load_step_scores
from verikit.pipeline.workspace import Workspace, write_json_atomically


def curve_points(samples: int, wanted: list[int] | None) -> list[int]:
    if wanted:
        return sorted({n for n in wanted if 1 <= n <= samples} | {samples})
    return sorted({n for n in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if n < samples} | {samples})


def scored_entries(ws: Workspace, ref, sample_set: int = 0):
    """``(problems, greedy, samples, entries, unscorable)``: every saved sample's answer and verdict, with each
    reward model's aggregated score (``entries[i].scores[name]``)."""
    problems, greedy, samples = load_samples(ws, ref, sample_set)
    checker, splitter = ws.checker_and_splitter(ws.domain(problems))
    entries, readable, unscorable = gather_samples(problems, samples, checker, splitter)
    for spec in ws.reward_models_scoring(ref):
        set_scores(
            entries,
            readable,
            load_step_scores(ws, ref, spec.name, sample_set),
            spec.name,
            spec.aggregation_under(ws.recipe.score.aggregation),
        )
    return problems, greedy, samples, entries, unscorable


def dataset_methods(ws: Workspace, ref) -> dict[str, tuple[str, str | None]]:
    """The table's rows for ``ref``: row → (selector, the reward model it uses on this dataset)."""
    scoring = {spec.name for spec in ws.reward_models_scoring(ref)}
    rows = {}
    for row, (name, method) in ws.recipe.methods().items():
        model = method.reward_model_for(ref.key)
        if method.reward_model is None or model in scoring:
            rows[row] = (name, model)
    return rows


def _over_sets(per_set: list[list[bool]], seed: int) -> dict:
    """A row from the per-problem verdicts of every sample set: the mean over sets, a bootstrap interval over problems
    of
    the per-problem mean, and each set's accuracy."""
    means = [sum(v) / len(v) for v in zip(*per_set)]
    point = bootstrap_accuracy(means, seed)
    accs = [sum(v) / len(v) for v in per_set]
    spread = (sum((a - point["acc"]) ** 2 for a in accs) / (len(accs) - 1)) ** 0.5 if len(accs) > 1 else 0.0
    return {**point, "sets": accs, "sd": spread}


def run_select(ws: Workspace) -> dict:
    """``{dataset-split: {"table": {row: {acc, ci_low, ci_high[, sets, sd]}}, "pairwise_auc": {...}, ...}}``; curves as
    JSON and PNG."""
    recipe, stage = ws.recipe, ws.recipe.select
    n = recipe.sample.samples
    results = {}
    for ref in recipe.sample.datasets:
        methods = dataset_methods(ws, ref)
        sets = ws.sample_sets()
        per_set = [scored_entries(ws, ref, s) for s in sets]
        problems, greedy, _, entries, unscorable = per_set[0]
        checker, _ = ws.checker_and_splitter(ws.domain(problems))
        scoring = [spec.name for spec in ws.reward_models_scoring(ref)]
        pairwise = {name: _mean([within_problem_pairwise_auc(e, name) for *_, e, _ in per_set]) for name in scoring}
        curves_by_set = [
            bon_curves(e, methods, curve_points(n, stage.ns), repeats=stage.repeats, seed=stage.seed)
            for *_, e, _ in per_set
        ]
        table = {}
        if recipe.sample.greedy:
            table["greedy"] = bootstrap_accuracy(
                [text is not None and checker.is_correct(text, p.gold_answer) for text, p in zip(greedy, problems)],
                stage.seed,
            )
        for row, (name, model) in methods.items():
            if len(sets) == 1:
                table[row] = curves_by_set[0][row][n]
            else:
                table[row] = _over_sets(
                    [selection_verdicts(e, selector(name), model) for *_, e, _ in per_set], stage.seed
                )
        passes = [[any(x.correct) for x in e] for *_, e, _ in per_set]
        table["pass@n"] = (
            bootstrap_accuracy(passes[0], stage.seed) if len(sets) == 1 else _over_sets(passes, stage.seed)
        )
        curves = _mean_curves(curves_by_set)
        plot = ws.out / "select" / f"{ref.key}.png"
        plot.parent.mkdir(parents=True, exist_ok=True)
        plot_curves(
            curves,
            plot,
            title=f"{recipe.name}: {ref.key}, best-of-N ({len(problems)} problems"
            + (f", mean of {len(sets)} sample sets)" if len(sets) > 1 else ")"),
        )
        results[ref.key] = {
            "table": table,
            "pairwise_auc": pairwise,
            "unscorable_samples": unscorable,
            "problems": len(problems),
            "samples": n,
            "sample_sets": len(sets),
            "plot": str(plot),
            "aggregation": {
                spec.name: spec.aggregation_under(recipe.score.aggregation) for spec in ws.reward_models_scoring(ref)
            },
        }
        write_json_atomically(ws.out / "select" / f"{ref.key}.json", {**results[ref.key], "curves": curves})
    return results


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _mean_curves(curves_by_set: list[dict]) -> dict:
    if len(curves_by_set) == 1:
        return curves_by_set[0]
    merged: dict = {}
    for method, points in curves_by_set[0].items():
        merged[method] = {
            n: {
                "acc": _mean([c[method][n]["acc"] for c in curves_by_set]),
                "ci_low": min(c[method][n]["ci_low"] for c in curves_by_set),
                "ci_high": max(c[method][n]["ci_high"] for c in curves_by_set),
            }
            for n in points
        }
    return merged


def report_select(recipe, result: dict) -> tuple[dict, list[str]]:
    from verikit.pipeline.report import format_table

    tables = {key: r["table"] for key, r in result.items()}
    n = recipe.sample.samples
    sets = max((r.get("sample_sets", 1) for r in result.values()), default=1)
    title = (
        f"Table 1 ({recipe.name}): accuracy (%) at N={n}"
        + (f", mean of {sets} sample sets" if sets > 1 else "")
        + ", 95% interval"
    )
    lines = [format_table(title, tables, recipe.paper)]
    for key, r in result.items():
        auc = ", ".join(f"{k} {v:.3f}" for k, v in r["pairwise_auc"].items() if v is not None)
        if auc:
            lines.append(f"{key}: within-problem pairwise AUC {auc}")
    return {"best_of_n": tables}, lines


STAGE = Stage(
    run=run_select,
    present=lambda recipe: recipe.sample is not None,
    after=("score",),
    report=report_select,
    description="best-of-N curves and the table at N (SC, RM, SC+RM, greedy, pass@N)",
)
