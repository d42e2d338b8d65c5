"""The select stage: best-of-N curves and the table at N (Table 1's rows), from saved samples and scores only."""

from __future__ import annotations

from verikit.bon import bon_curves, gather_samples, plot_curves, set_scores, within_problem_pairwise_auc
from verikit.metrics import bootstrap_accuracy
from verikit.pipeline.sampling import load_samples
from verikit.pipeline.scoring import load_step_scores
from verikit.pipeline.workspace import Workspace, write_json_atomically


def curve_points(samples: int, wanted: list[int] | None) -> list[int]:
    if wanted:
        return sorted({n for n in wanted if 1 <= n <= samples} | {samples})
    return sorted({n for n in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if n < samples} | {samples})


def scored_entries(ws: Workspace, ref):
    """``(problems, greedy, samples, entries, unscorable)``: every saved sample's answer and verdict, with each
    reward model's aggregated score (``entries[i].scores[name]``)."""
    problems, greedy, samples = load_samples(ws, ref)
    checker, splitter = ws.checker_and_splitter(ws.domain(problems))
    entries, readable, unscorable = gather_samples(problems, samples, checker, splitter)
    for spec in ws.recipe.reward_models:
        set_scores(entries, readable, load_step_scores(ws, ref, spec.name), spec.name, ws.recipe.score.aggregation)
    return problems, greedy, samples, entries, unscorable


def run_select(ws: Workspace) -> dict:
    """``{dataset-split: {"table": {row: {acc, ci_low, ci_high}}, "pairwise_auc": {...}, ...}}``; curves as JSON and PNG."""
    recipe, stage = ws.recipe, ws.recipe.select
    methods = recipe.methods()
    samples_per_problem = recipe.sample.samples
    results = {}
    for ref in recipe.sample.datasets:
        problems, greedy, _, entries, unscorable = scored_entries(ws, ref)
        checker, _ = ws.checker_and_splitter(ws.domain(problems))
        pairwise = {spec.name: within_problem_pairwise_auc(entries, spec.name) for spec in recipe.reward_models}
        curves = bon_curves(entries, methods, curve_points(samples_per_problem, stage.ns), repeats=stage.repeats,
                            seed=stage.seed)
        table = {}
        if recipe.sample.greedy:
            table["greedy"] = bootstrap_accuracy([text is not None and checker.is_correct(text, p.gold_answer)
                                                  for text, p in zip(greedy, problems)], stage.seed)
        for method in methods:
            table[method] = curves[method][samples_per_problem]
        table["pass@n"] = bootstrap_accuracy([any(e.correct) for e in entries], stage.seed)
        plot = ws.out / "select" / f"{ref.key}.png"
        plot.parent.mkdir(parents=True, exist_ok=True)
        plot_curves(curves, plot, title=f"{recipe.name}: {ref.key}, best-of-N ({len(problems)} problems)")
        results[ref.key] = {"table": table, "pairwise_auc": pairwise, "unscorable_samples": unscorable,
                            "problems": len(problems), "samples": samples_per_problem, "plot": str(plot)}
        write_json_atomically(ws.out / "select" / f"{ref.key}.json", {**results[ref.key], "curves": curves})
    return results
