"""``verikit annotate | annotate-eval | export``: Monte Carlo annotation and what is done with its folders."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Optional

import typer

from verikit.annotation.config import AnnotationConfig
from verikit.cli.app import app, console, write_json
from verikit.cli.options import config_options
from verikit.errors import VerikitError

#: AnnotationConfig fields whose option names predate the config (kept: scripts and docs use them)
ANNOTATION_FLAGS = {"samples_per_problem": "samples", "n_rollouts": "n", "backend": "completer_backend"}


@app.command()
@config_options(AnnotationConfig, rename=ANNOTATION_FLAGS)
def annotate(
    config: AnnotationConfig,
    out: Path = typer.Option(..., help="Annotation folder (created; an existing one is resumed)."),
    executor: str = typer.Option(
        "local",
        "--executor",
        "--backend",
        help=(
            "local (this process) or ray (chunks shared out to Ray workers). The completer backend is "
            "--completer-backend; "
            "--backend, this option's old name, is deprecated."
        ),
        show_default=True,
    ),
    workers: int = typer.Option(2, help="Ray workers (with --executor ray)."),
    ray_address: Optional[str] = typer.Option(None, help="Join this Ray cluster (default: start a local one)."),
    retry_errors: bool = typer.Option(
        False, help="Recompute the solutions stored with an error (e.g. after fixing a checker)."
    ),
) -> None:
    """Monte Carlo process annotation: sample solutions, roll out from every step, label, store (resumable)."""
    import sys

    from verikit.annotation.driver import annotate as run_locally

    if "--backend" in sys.argv:
        console.print("[yellow]warning:[/yellow] --backend (local|ray) is deprecated: it is --executor", markup=True)
    if executor == "ray":
        from verikit.annotation.distributed import annotate_with_ray

        run = partial(annotate_with_ray, workers=workers, address=ray_address, retry_errors=retry_errors)
    elif executor == "local":
        run = partial(run_locally, retry_errors=retry_errors)
    else:
        raise typer.BadParameter(f"choose local or ray, not {executor!r}", param_hint="--executor")
    summary = run(config, out)
    for repair in summary.repairs:
        console.print(f"[yellow]repaired[/yellow] {repair}", markup=True, highlight=False)
    console.print(
        f"{summary.solutions} solutions ({summary.duplicates} duplicates, not rolled out) of {summary.problems} "
        f"problems in {out} "
        f"({summary.skipped_chunks} chunks already done); rollouts used {summary.rollouts_used}, "
        f"generated {summary.rollouts_generated} ({summary.rollout_tokens} tokens) in {summary.seconds:.0f}s"
    )
    for kind, count in summary.errors.items():
        console.print(f"[red]{count} solutions not labelled:[/red] {kind}", markup=True, highlight=False)
    if summary.gold_errors:
        console.print(
            f"[yellow]{len(summary.gold_errors)} problems skipped:[/yellow] {summary.gold_errors[0]}"
            + (f" (and {len(summary.gold_errors) - 1} more)" if len(summary.gold_errors) > 1 else ""),
            markup=True,
            highlight=False,
        )
    if summary.retried:
        console.print(f"{summary.retried} records of chunks that held an error were recomputed (--retry-errors)")
    if summary.labelled == 0:
        raise VerikitError(f"no solution in {out} was labelled (see the counts above)")


@app.command("annotate-eval")
def annotate_eval(
    annotations: Path = typer.Option(..., help="Annotation folder made with --strategy naive and N >= max(--ns)."),
    out: Path = typer.Option(..., help="Write {strategy: {N: {accuracy, f1_negative, …}}} JSON here."),
    plot: Optional[Path] = typer.Option(None, help="PNG of accuracy vs N (default: beside --out)."),
    ns: str = typer.Option("1,2,4,8,16", help="Comma list of N to evaluate."),
) -> None:
    """Monte Carlo labels vs the domain's exact gold step labels, for each strategy and N."""
    from verikit import components
    from verikit.annotation.quality import evaluate_labels, plot_quality
    from verikit.annotation.storage import load_records

    records = load_records(annotations)
    domain = components.domain(records[0]["domain"])
    labeller = domain.load_gold_labeller()
    if labeller is None:
        raise typer.BadParameter(f"domain {domain.name!r} has no gold step labeller")
    result = evaluate_labels(records, labeller, ns=[int(x) for x in ns.split(",")])
    write_json(result, out)
    plot = plot or out.with_suffix(".png")
    plot_quality(result, plot)
    console.print(f"wrote {plot}")
    for strategy in [k for k in result if k not in ("soft", "counts")]:
        row = "  ".join(
            f"N={n}: {100 * v['accuracy']:.1f}% ({v['rollouts_per_solution']:.1f} r/sol)"
            for n, v in result[strategy].items()
        )
        console.print(f"{strategy:>13}  {row}")
    soft = "  ".join(
        f"N={n}: {100 * v['accuracy']:.1f}% auc {v['step_auc'] or float('nan'):.3f}" for n, v in result["soft"].items()
    )
    console.print(f"{'naive-soft':>13}  {soft}")


@app.command()
def export(
    annotations: Path = typer.Option(..., help="Annotation folder."),
    format: str = typer.Option(..., "--format", help="math-shepherd, trl or parquet."),
    out: Path = typer.Option(..., help="Output file."),
    labels: str = typer.Option("hard_labels", help="hard_labels or soft_labels."),
) -> None:
    """Export annotations in the Math-Shepherd, TRL stepwise-supervision or parquet format."""
    from verikit.annotation.exports import export as run
    from verikit.annotation.storage import load_records

    records = load_records(annotations)
    written = run(records, format, out, labels=labels)
    skipped = len(records) - written
    console.print(
        f"wrote {written} rows to {out}" + (f" ({skipped} records without labels not exported)" if skipped else "")
    )
