"""``verikit reproduce``: run a recipe (the whole pipeline, or some of its stages)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from verikit.cli.app import app


@app.command("reproduce")
def reproduce_command(
    recipe: str = typer.Option(
        ..., help="A recipe file (YAML) or the name of one a plugin registered (verikit recipes)."
    ),
    stage: Optional[str] = typer.Option(
        None, help="Comma list of stages to run (verikit stages lists them); default: every stage the recipe has."
    ),
    out: Optional[Path] = typer.Option(
        None, help="Output folder (default out/reproduce/<recipe name>); stages there are reused."
    ),
    smoke: bool = typer.Option(False, help="A CPU plumbing check: one tiny local model, a few real rows per dataset."),
    set_: list[str] = typer.Option([], "--set", help="Override a recipe field: --set sample.samples=16 (repeatable)."),
    check: bool = typer.Option(False, help="Only check the recipe (names, models) and print the stages it would run."),
) -> None:
    """Run a recipe: annotate, train reward models, sample, score, select, RL, report — each resumable from its
    files."""
    from verikit.pipeline import prepare, reproduce

    stages = [s.strip() for s in stage.split(",") if s.strip()] if stage else None
    if check:
        loaded, path, order, folder = prepare(recipe, out, stages, smoke, set_)
        typer.echo(
            f"{path}: valid (names, files, data{'' if smoke else ', models'} checked); would run "
            f"{', '.join(order)} into {folder}"
        )
        return
    reproduce(recipe, out, stages=stages, smoke=smoke, overrides=set_)


@app.command("stages")
def stages_command() -> None:
    """List the pipeline stages (the core's and plugins'), in the order a run takes them, with their recipe sections."""
    from verikit.pipeline.stage import registered

    for name, stage in registered().items():
        section = stage.section or ("(every run)" if stage.always else "")
        after = f" after {', '.join(stage.after)}" if stage.after else ""
        typer.echo(f"{name}\t{section}\t{stage.description}{after}")


@app.command("recipes")
def recipes_command(
    reference: bool = typer.Option(
        False, "--reference", help="Print the recipe format's reference (Markdown, from the schema) instead."
    ),
) -> None:
    """List the recipes plugins registered (verikit reproduce --recipe NAME)."""
    from verikit import components

    if reference:
        from verikit.pipeline.recipe_reference import recipe_reference

        typer.echo(recipe_reference(), nl=False)
        return
    for name in components.names("recipes"):
        typer.echo(f"{name}\t{components.lookup('recipes', name)}")


@app.command("report")
def report_command(
    run: Path = typer.Option(
        ..., help="A pipeline output folder (verikit reproduce --out, or verikit demo's OUT/<preset>)."
    ),
    out: Optional[Path] = typer.Option(None, help="The HTML file to write (default RUN/report.html)."),
    top_k: int = typer.Option(100, min=1, help="Rows kept per list (highest-scored wrong, lowest-scored correct, …)."),
    per_problem: int = typer.Option(
        8, min=1, help="Samples kept per problem (the picks, then the best of each answer)."
    ),
) -> None:
    """One self-contained HTML page of the run: steps coloured by PRM score, picks, lists to sort and filter, curves."""
    from verikit.pipeline.html_report import write_html_report

    path = write_html_report(run, out, top_k=top_k, per_problem=per_problem)
    typer.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
