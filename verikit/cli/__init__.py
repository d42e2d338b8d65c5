"""The ``verikit`` command line. Thin: it parses arguments and calls library functions.

Commands live beside what they drive (:mod:`.annotation`, :mod:`.reward_models`, :mod:`.rl`, :mod:`.serving`);
options that configure a run are generated from its pydantic config (:mod:`.options`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from verikit.cli.app import app, console, write_json
from verikit.errors import VerikitError


@app.command()
def plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List loaded plugins, what each registered, and any plugin that failed."""
    from verikit.plugins import get_host

    host = get_host()
    components = {
        key: [{"name": e.name, "plugin": e.plugin, "description": e.description} for e in registry.entries()]
        for key, registry in host.registries.items()
    }
    data = {
        "plugins": [vars(info) for info in host.info.values()],
        "components": components,
        "failures": [vars(f) for f in host.failures],
        "notes": host.notes,
    }
    if as_json:
        print(json.dumps(data, indent=2))
        return
    table = Table(title="verikit components")
    for column in ("kind", "name", "plugin", "description"):
        table.add_column(column)
    for key, entries in components.items():
        for entry in entries:
            # Text, not markup: descriptions name extras such as verikit[vllm], which markup would swallow
            table.add_row(*(Text(str(value)) for value in (key, entry["name"], entry["plugin"], entry["description"])))
    console.print(table)
    for failure in host.failures:
        console.print(
            f"[red]plugin {escape(repr(failure.plugin))} failed at {escape(str(failure.stage))}:[/red] "
            f"{escape(str(failure.error))}"
        )
    for note in host.notes:
        console.print(f"[yellow]note:[/yellow] {escape(str(note))}", highlight=False)


@app.command()
def check(
    path: Path = typer.Argument(..., help='JSONL with one {"solution": str, "gold": str} per line.'),
    checker: str = typer.Option(..., "--checker", "-c", help="Registered answer checker, e.g. gsm8k or math."),
    out: Optional[Path] = typer.Option(None, help="Write per-row verdicts and totals as JSON here."),
) -> None:
    """Grade solutions against gold answers with a named checker."""
    from verikit.checking import check_file

    result = check_file(path, checker)
    console.print(
        f"{result['correct']}/{result['n']} correct ({100 * result['accuracy']:.1f}%) with checker {checker!r}"
    )
    if out is not None:
        write_json(result, out)


@app.command("checker-report")
def checker_report(
    dataset: str = typer.Option(
        ...,
        help="Dataset and split, e.g. gsm8k-test or math500 (gold-vs-gold), or processbench "
        "(agreement with human verdicts).",
    ),
    data_dir: Optional[Path] = typer.Option(
        None, help="Benchmark data folder (default: $VERIKIT_DATA or ../shared/data)."
    ),
    limit: Optional[int] = typer.Option(None, help="Only the first N problems (gold-vs-gold)."),
    processbench: list[Path] = typer.Option(
        [],
        help="ProcessBench files or folders (default: the data folder's "
        "processbench_dev and processbench_dev_correct).",
    ),
    gold: str = typer.Option(
        "gsm8k-test,gsm8k-train,math500,math-train",
        help="Datasets whose problems give the ProcessBench rows their gold answers (joined by text).",
    ),
    out: Optional[Path] = typer.Option(None, help="Write the report as JSON here."),
) -> None:
    """Gold-vs-gold agreement of a dataset's checker, or every checker's agreement with ProcessBench's human
    verdicts."""
    if dataset == "processbench":
        from verikit.checking import human_agreement
        from verikit.paths import data_dir as default_data_dir

        root = data_dir or default_data_dir()
        sources = processbench or [root / "processbench_dev", root / "processbench_dev_correct"]
        report = human_agreement(
            [s for s in sources if Path(s).exists()] or sources,
            [g.strip() for g in gold.split(",") if g.strip()],
            data_dir=data_dir,
        )
        columns = [c for c in ("own", "math-verify") if any(c in t for t in report["subsets"].values())]
        columns += [c for c in report["checkers"]]
        console.print(
            f"agreement with the human final-answer verdicts ({report['seconds']:.1f}s; rows without a gold "
            f"answer: {report['not_joined'] or 'none'}; wall-clock cuts: {report['wall_clock_cuts']})"
        )
        console.print(f"{'subset':<10}" + "".join(f"{c:>14}" for c in columns), soft_wrap=True)
        for subset, tally in report["subsets"].items():
            cells = "".join(
                f"{tally[c]['agree']:>6}/{tally[c]['n']:<3} " + f"{100 * tally[c]['accuracy']:3.0f}%"
                if c in tally
                else f"{'—':>14}"
                for c in columns
            )
            console.print(f"{subset:<10}{cells}", markup=False, soft_wrap=True)
        for miss in report["disagreements"]:
            console.print(
                f"  {miss['id']} human={miss['human']} wrong: {', '.join(miss['wrong'])} ({miss['checker']} "
                f"extracted {miss['extracted']!r}, gold {miss['gold']!r})",
                markup=False,
            )
        if out is not None:
            write_json(report, out)
        return
    from verikit.checking import gold_vs_gold

    report = gold_vs_gold(dataset, data_dir=data_dir, limit=limit)
    console.print(
        f"[bold]{dataset}[/bold]: {report['agree']}/{report['n']} = {100 * report['accuracy']:.1f}% "
        f"gold-vs-gold agreement ({', '.join(report['checkers'])} checker, {report['seconds']:.1f}s)"
    )
    for miss in report["misses"]:
        console.print(
            f"  miss {miss['id']}: gold={miss['gold_answer']!r} extracted={miss['extracted']!r}", markup=False
        )
    if out is not None:
        write_json(report, out)


# Each module adds its commands to ``app`` (imported last: they import ``app`` from here).
from verikit.cli import annotation, pipeline, reward_models, rl, serving  # noqa: E402,F401  (each adds its commands)


def main() -> None:
    from verikit.plugins import get_host

    try:
        get_host().add_commands(app)  # VERIKIT_STRICT_PLUGINS=1 fails here: one line, like every other error
        app()
    except VerikitError as exc:
        console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
