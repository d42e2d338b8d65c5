"""``verikit report``: one self-contained HTML page to look at the verifier's judgement, step by step.

Read from a pipeline (or demo) output folder — its samples, scores, selection and, when present, annotations and
the domain's gold step labeller — and written as a single file: CSS, JavaScript, the data (JSON) and the curves
(inline SVG) are all inside, so it opens from disk with no server and no network.

Bounded size: the page never holds every sample. It holds, per reward model, the top ``top_k`` of each list
(highest-scored wrong solutions, lowest-scored correct ones, first-drop vs first-error disagreements) and the
first ``top_k`` MC-vs-gold label disagreements; per problem, its answers with their votes and the samples behind
the picks (the RM's, SC's, SC+RM's and the best-scored sample of each answer, at most ``per_problem``). Every
sample shown is stored once. The page says which limits applied.

All text reaches the page as JSON data and is put into the document with ``textContent`` only: a solution that
contains ``<script>`` or any HTML is shown as text, never run.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

from verikit.pipeline.recipe import Recipe
from verikit.pipeline.workspace import Workspace
from verikit.records import is_labelled

DROP = 0.5  # a step "drops" when its score falls below this (the PRM's own +/- boundary)


def _step_scores(ws: Workspace, ref, name: str, readable) -> dict[tuple[int, int], list[float]]:
    from verikit.pipeline.stages.score import load_step_scores

    scores = load_step_scores(ws, ref, name)
    return {(r.problem_index, r.sample_index): s for r, s in zip(readable, scores)}


def _rounded(scores):
    return None if scores is None else [round(float(x), 4) for x in scores]


def collect(ws: Workspace, ref, top_k: int = 100, per_problem: int = 8) -> dict:
    """The page's data for one sampled dataset of the run."""
    from verikit.bon import gather_samples
    from verikit.components import selector
    from verikit.metrics import aggregate, first_error, predicted_first_error
    from verikit.pipeline.stages.sample import load_samples

    recipe = ws.recipe
    problems, greedy, samples = load_samples(ws, ref)
    domain = ws.domain(problems)
    checker, splitter = ws.checker_and_splitter(domain)
    entries, readable, _ = gather_samples(problems, samples, checker, splitter)
    steps_of = {(r.problem_index, r.sample_index): r.steps for r in readable}
    specs = {spec.name: spec for spec in ws.reward_models_scoring(ref)}
    models = list(specs)
    aggregation = {name: spec.aggregation_under(recipe.score.aggregation) for name, spec in specs.items()}
    step_scores = {name: _step_scores(ws, ref, name, readable) for name in models}
    labeller = domain.load_gold_labeller()
    gold_cache: dict = {}

    def gold(pi: int, si: int):
        if labeller is None or (pi, si) not in steps_of:
            return None
        if (pi, si) not in gold_cache:
            try:
                gold_cache[(pi, si)] = [bool(x) for x in labeller(problems[pi], steps_of[(pi, si)])]
            except Exception:  # a labeller that cannot read a sample: no gold labels for it
                gold_cache[(pi, si)] = None
        return gold_cache[(pi, si)]

    shown: dict[str, dict] = {}

    def keep(pi: int, si: int) -> str:
        key = f"{pi}:{si}"
        if key not in shown:
            entry = entries[pi]
            shown[key] = {
                "problem": pi,
                "sample": si,
                "steps": steps_of.get((pi, si)) or [samples[pi][si]],
                "answer": entry.answers[si],
                "correct": entry.correct[si],
                "gold": gold(pi, si),
                "scores": {m: _rounded(step_scores[m].get((pi, si))) for m in models},
            }
        return key

    def solution_score(model, pi, si):
        steps = step_scores[model].get((pi, si))
        return aggregate(steps, aggregation[model]) if steps else 0.0

    lists: dict[str, dict[str, list]] = {}
    for model in models:
        distinct = {}  # one row per distinct (problem, text): 64 samples of an easy problem are mostly copies
        for pi, entry in enumerate(entries):
            for si in range(len(entry.answers)):
                distinct.setdefault((pi, samples[pi][si]), (pi, si))
        scored = [(solution_score(model, pi, si), pi, si) for pi, si in distinct.values()]
        wrong = sorted((t for t in scored if not entries[t[1]].correct[t[2]]), key=lambda t: -t[0])[:top_k]
        right = sorted((t for t in scored if entries[t[1]].correct[t[2]]), key=lambda t: t[0])[:top_k]
        disagree = []
        for score, pi, si in scored:
            labels, steps = gold(pi, si), step_scores[model].get((pi, si))
            if labels is None or not steps:
                continue
            error, drop = first_error(labels), predicted_first_error(steps, DROP)
            if error != drop:
                disagree.append((abs(error - drop), score, pi, si, error, drop))
        disagree.sort(key=lambda t: (-t[0], -t[1]))
        lists[model] = {
            "high_wrong": [{"id": keep(pi, si), "score": round(s, 4)} for s, pi, si in wrong],
            "low_correct": [{"id": keep(pi, si), "score": round(s, 4)} for s, pi, si in right],
            "drop_vs_error": [
                {"id": keep(pi, si), "score": round(s, 4), "first_error": e, "first_drop": d}
                for _, s, pi, si, e, d in disagree[:top_k]
            ],
        }
    # per problem: the answers with their votes, and the picks of SC, each RM and SC+RM
    problem_rows = []
    for pi, (problem, entry) in enumerate(zip(problems, entries)):
        votes = Counter(a for a in entry.answers if a is not None)
        picks = {"sc": selector("self-consistency")(entry.answers, None)}
        for model in models:
            scores = [solution_score(model, pi, si) for si in range(len(entry.answers))]
            picks[model] = selector("best-of-n")(entry.answers, scores)
            picks[f"sc+{model}"] = selector("sc+rm")(entry.answers, scores)
        wanted = [i for i in picks.values() if i is not None]
        best_per_answer = {}
        for si, answer in enumerate(entry.answers):
            if models:
                score = solution_score(models[0], pi, si)
                if answer not in best_per_answer or score > best_per_answer[answer][0]:
                    best_per_answer[answer] = (score, si)
            elif answer not in best_per_answer:
                best_per_answer[answer] = (0.0, si)
        wanted += [si for _, si in sorted(best_per_answer.values(), reverse=True)]
        chosen = list(dict.fromkeys(wanted))[:per_problem]
        problem_rows.append(
            {
                "question": problem.question,
                "gold": problem.gold_answer,
                "samples": len(entry.answers),
                "greedy_correct": greedy[pi] is not None and checker.is_correct(greedy[pi], problem.gold_answer),
                "votes": [
                    {"answer": a, "votes": n, "correct": checker.equivalent(a, problem.gold_answer)}
                    for a, n in votes.most_common()
                ],
                "unanswered": sum(a is None for a in entry.answers),
                "picks": {k: (None if v is None else keep(pi, v)) for k, v in picks.items()},
                "shown": [keep(pi, si) for si in chosen],
            }
        )
    select = ws.out / "select" / f"{ref.key}.json"
    selection = json.loads(select.read_text()) if select.exists() else {}
    # the paper's PRM first in the reward-model menu, then the others in the recipe's order
    models = sorted(models, key=lambda m: specs[m].kind != "prm")
    return {
        "dataset": ref.key,
        "problems": problem_rows,
        "samples": shown,
        "lists": lists,
        "models": models,
        "aggregation": aggregation,
        "table": selection.get("table", {}),
        "curves": selection.get("curves", {}),
        "pairwise_auc": selection.get("pairwise_auc", {}),
        "has_gold": labeller is not None,
        "limits": {
            "top_k": top_k,
            "per_problem": per_problem,
            "total_samples": sum(len(s) for s in samples),
            "shown_samples": len(shown),
        },
    }


def mc_vs_gold(ws: Workspace, top_k: int) -> list[dict]:
    """Annotated steps whose Monte Carlo label differs from the gold label (when the domain has gold labels)."""
    from verikit.annotation.storage import load_records

    rows = []
    for ref in ws.recipe.annotate.datasets if ws.recipe.annotate else []:
        folder = ws.annotations(ref)
        if not folder.exists():
            continue
        problems = {p.id: p for p in ws.problems(ref)}
        labeller = ws.domain(list(problems.values())).load_gold_labeller() if problems else None
        if labeller is None:
            continue
        for record in load_records(folder):
            if not is_labelled(record) or record["problem_id"] not in problems:
                continue
            gold = [bool(x) for x in labeller(problems[record["problem_id"]], record["steps"])]
            if gold != list(map(bool, record["hard_labels"])):
                rows.append(
                    {
                        "question": record["question"],
                        "steps": record["steps"],
                        "mc": record["hard_labels"],
                        "soft": record["soft_labels"],
                        "gold": gold,
                        "dataset": ref.key,
                    }
                )
                if len(rows) >= top_k:
                    return rows
    return rows


def curves_svg(curves: dict, width: int = 640, height: int = 300) -> str:
    """Best-of-N curves as an inline SVG (accuracy against N on a log axis), labelled in text too."""
    import math

    if not curves:
        return "<p>No curves (the select stage has not run).</p>"
    ns = sorted({int(n) for points in curves.values() for n in points})
    left, right, top, bottom = 50, 170, 15, 35
    xs = {
        n: left
        + (width - left - right) * (math.log2(n) - math.log2(ns[0])) / max(1e-9, math.log2(ns[-1]) - math.log2(ns[0]))
        for n in ns
    }
    values = [p["acc"] for points in curves.values() for p in points.values()]
    low, high = max(0.0, min(values) - 0.05), min(1.0, max(values) + 0.05)

    def y(v):
        return top + (height - top - bottom) * (1 - (v - low) / max(1e-9, high - low))

    palette = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#7f7f7f",
        "#bcbd22",
        "#17becf",
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="best-of-N curves" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" class="curves">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#444"/>',
    ]
    for n in ns:
        parts.append(f'<text x="{xs[n]:.1f}" y="{height - bottom + 15}" font-size="11" text-anchor="middle">{n}</text>')
    for tick in range(5):
        v = low + (high - low) * tick / 4
        parts.append(f'<text x="{left - 5}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{100 * v:.0f}</text>')
    parts.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 3}" font-size="11" text-anchor="middle">N (samples '
        f"per problem)</text>"
    )
    for index, (name, points) in enumerate(curves.items()):
        colour = palette[index % len(palette)]
        dash = "" if index < len(palette) else ' stroke-dasharray="4 2"'
        coords = " ".join(
            f"{xs[int(n)]:.1f},{y(p['acc']):.1f}" for n, p in sorted(points.items(), key=lambda kv: int(kv[0]))
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{coords}"/>')
        last = points[max(points, key=int)]
        parts.append(
            f'<text x="{width - right + 6}" y="{14 + 14 * index}" font-size="11" fill="{colour}">'
            f"{html.escape(name)} {100 * last['acc']:.1f}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _json_for_script(data) -> str:
    """JSON that cannot end its <script> element early, whatever strings it holds."""
    return (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def render(recipe: Recipe, datasets: list[dict], mc_rows: list[dict]) -> str:
    title = f"verikit report: {recipe.name}"
    svgs = "".join(
        f'<section class="curves-box"><h3>{html.escape(d["dataset"])}: '
        f"best-of-N</h3>{curves_svg(d['curves'])}</section>"
        for d in datasets
    )
    data = {
        "recipe": recipe.name,
        "aggregation": recipe.score.aggregation,
        "datasets": datasets,
        "mc_vs_gold": mc_rows,
        "drop": DROP,
    }
    template = (Path(__file__).with_name("report_page.html")).read_text(encoding="utf-8")
    return (
        template.replace("{{TITLE}}", html.escape(title))
        .replace("{{SVGS}}", svgs)
        .replace("{{DATA}}", _json_for_script(data))
    )


def write_html_report(run: str | Path, out: str | Path | None = None, top_k: int = 100, per_problem: int = 8) -> Path:
    """Write ``out`` (default ``RUN/report.html``) for the pipeline output folder ``run``; returns its path."""
    from verikit.errors import DataError
    from verikit.pipeline.recipe import Recipe as RecipeModel

    run = Path(run)
    saved = run / "recipe.json"
    if not saved.exists():
        raise DataError(
            "not a pipeline output folder (no recipe.json); run verikit reproduce or verikit demo first", path=run
        )
    recipe = RecipeModel(**json.loads(saved.read_text())["recipe"])
    ws = Workspace(recipe, run)
    ws.load_models()
    datasets = [collect(ws, ref, top_k, per_problem) for ref in (recipe.sample.datasets if recipe.sample else [])]
    page = render(recipe, datasets, mc_vs_gold(ws, top_k))
    target = Path(out) if out is not None else run / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target
