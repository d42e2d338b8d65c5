"""The human_labels stage: the paper's check of automatic step labels against human ones, on ProcessBench.

ProcessBench rows are solutions whose first wrong step humans marked (``label``, -1 for a solution without one). Each
row is joined to its gold answer by its problem text (GSM8K, MATH), and the completer labels every step by Monte
Carlo rollouts exactly as annotation does (N rollouts, the estimator; hard by default). Humans judge only up to the
first error, so agreement is measured there: step accuracy on the steps up to and including the human first error,
and whether the first ``-`` of the MC labels is the human first error (-1 against -1 for correct solutions), overall,
by source and for erroneous and correct rows; ProcessBench's F1 is the harmonic mean of the last two.
"""

from __future__ import annotations

import json
from pathlib import Path

from verikit.pipeline.reuse import Fingerprint, digest, model_identity, record, start
from verikit.pipeline.stage import Stage
from verikit.pipeline.workspace import Workspace, release, write_json_atomically


def source_paths(sources: list[str]) -> list[Path]:
    """The ProcessBench files of ``sources``: each a file or folder, as given or under the data folder."""
    from verikit.errors import DataError
    from verikit.paths import data_dir

    files: list[Path] = []
    for source in sources:
        path = Path(source).expanduser()
        if not path.exists():
            try:
                path = data_dir() / source
            except DataError:
                continue
        if path.is_dir():
            files += sorted(path.glob("*.jsonl"))
        elif path.is_file():
            files.append(path)
    return files


def joined_rows(settings) -> tuple[list[dict], dict[str, int]]:
    """Every ProcessBench row of the sources with its gold problem; counts of rows left out, and why."""
    from verikit import components
    from verikit.checking import processbench_rows, resolve_dataset

    gold = {}
    for spec in settings.gold:
        name, kwargs = resolve_dataset(spec)
        for problem in components.load_dataset(name, **kwargs):
            gold.setdefault(problem.question.strip(), problem)
    rows, left_out, per_file = [], {}, {}
    for path, line, row in processbench_rows(source_paths(settings.sources)):
        per_file[path] = per_file.get(path, 0) + 1
        if settings.limit is not None and per_file[path] > settings.limit:
            continue
        problem = gold.get(row.problem.strip())
        if problem is None:
            left_out["no gold answer"] = left_out.get("no gold answer", 0) + 1
            continue
        rows.append(
            {
                "source": f"{path.name}:{line}",
                "id": str(row.id),
                "subset": str(row.id).split("-")[0],
                "problem": problem,
                "steps": list(row.steps),
                "human": row.label,
            }
        )
    return rows, left_out


def agreement(rows: list[dict], labels: list[list[bool] | None]) -> dict:
    """Step accuracy up to the human first error, first-error agreement, both by subset and error/correct rows, F1."""

    def tally(selected):
        steps = right = first = 0
        for row, mc in selected:
            human = row["human"]
            upto = len(row["steps"]) if human == -1 else human + 1
            truth = [True] * upto if human == -1 else [True] * human + [False]
            steps += upto
            right += sum(a == b for a, b in zip(mc[:upto], truth))
            predicted = next((k for k, good in enumerate(mc) if not good), -1)
            first += predicted == human
        n = len(selected)
        return {
            "rows": n,
            "step_accuracy": right / steps if steps else None,
            "first_error_agreement": first / n if n else None,
        }

    pairs = [(row, mc) for row, mc in zip(rows, labels) if mc is not None]
    result = {
        "all": tally(pairs),
        "erroneous": tally([p for p in pairs if p[0]["human"] != -1]),
        "correct": tally([p for p in pairs if p[0]["human"] == -1]),
    }
    for subset in sorted({row["subset"] for row, _ in pairs}):
        result[subset] = tally([p for p in pairs if p[0]["subset"] == subset])
    a, b = result["erroneous"]["first_error_agreement"], result["correct"]["first_error_agreement"]
    result["processbench_f1"] = 2 * a * b / (a + b) if a and b else 0.0 if a is not None and b is not None else None
    return result


def run_human_labels(ws: Workspace) -> dict:
    from verikit.annotation.config import AnnotationConfig
    from verikit.annotation.driver import Annotator

    settings = ws.recipe.human_labels
    rows, left_out = joined_rows(settings)
    completer = ws.model("completer")
    out = ws.out / "human_labels"
    fingerprint = Fingerprint.of(
        completer=model_identity(completer),
        settings=settings.model_dump(),
        rows=digest([(r["source"], r["problem"].gold_answer, r["steps"], r["human"]) for r in rows]),
        backend=ws.recipe.backend.model_dump(),
        prompt_template=ws.recipe.prompt_template or "",
    )
    decision = start(out, fingerprint, "MC labels of the human-labelled solutions")
    if decision.reuse:
        return {**json.loads((out / "report.json").read_text()), **decision.report()}
    options = ws.recipe.backend.options
    config = AnnotationConfig(
        dataset="processbench",
        generator=[completer],
        completer=completer,
        strategy="naive",
        n_rollouts=settings.n_rollouts,
        estimator=settings.estimator,
        temperature=settings.rollout_temperature,
        max_new_tokens=settings.max_new_tokens,
        batch_size=options.get("batch_size", settings.batch_size),
        seed=settings.seed,
        domain=ws.recipe.domain,
        prompt_template=ws.recipe.prompt_template,
        backend=ws.recipe.backend.name,
        device=options.get("device", "auto"),
        backend_options={k: v for k, v in options.items() if k not in ("batch_size", "device")},
    )
    annotator = Annotator(config)
    try:
        labels = annotator.label_solutions([(r["problem"], r["steps"]) for r in rows])
    finally:
        for engine in annotator.models():
            release(engine)
    hard = [None if ls is None else [label.hard for label in ls] for ls in labels]
    report = {
        "rows": len(rows),
        "left_out": left_out,
        "unlabelled": sum(h is None for h in hard),
        "n_rollouts": settings.n_rollouts,
        "estimator": settings.estimator,
        "agreement": agreement(rows, hard),
    }
    write_json_atomically(
        out / "labels.json",
        [
            {"source": r["source"], "id": r["id"], "human_first_error": r["human"], "mc_labels": h}
            for r, h in zip(rows, hard)
        ],
    )
    write_json_atomically(out / "report.json", report)
    record(out, fingerprint)
    return {**report, **decision.report()}


def report_human_labels(recipe, result: dict) -> tuple[dict, list[str]]:
    table = result["agreement"]
    lines = [
        f"MC labels (N = {result['n_rollouts']}, {result['estimator']}) against human first errors on "
        f"{result['rows']} ProcessBench solutions (left out: {result['left_out'] or 'none'}):"
    ]
    for key, value in table.items():
        if key == "processbench_f1":
            continue
        step = "n/a" if value["step_accuracy"] is None else f"{100 * value['step_accuracy']:.1f}%"
        first = "n/a" if value["first_error_agreement"] is None else f"{100 * value['first_error_agreement']:.1f}%"
        lines.append(f"  {key:<14} rows {value['rows']:>4}  step accuracy {step:>6}  first error agreed {first:>6}")
    if table.get("processbench_f1") is not None:
        lines.append(f"  ProcessBench F1 (erroneous and correct rows): {100 * table['processbench_f1']:.1f}")
    return {"human_labels": result}, lines


def smoke_human_labels(recipe, tiny: str, out) -> dict:
    # every row (ProcessBench's dev files are 20 rows each): the plumbing on all of them takes seconds
    return {
        "human_labels": recipe.human_labels.model_copy(
            update={
                "limit": min(recipe.human_labels.limit or 20, 20),
                "n_rollouts": 2,
                "max_new_tokens": 24,
                "batch_size": 64,
            }
        )
    }


STAGE = Stage(
    run=run_human_labels,
    section="human_labels",
    after=("finetune",),
    smoke=smoke_human_labels,
    report=report_human_labels,
    description="the completer's MC step labels against human first-error labels (ProcessBench)",
)
