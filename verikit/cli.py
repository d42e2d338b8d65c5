"""The ``verikit`` command line. Thin: it parses arguments and calls library functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from verikit.errors import VerikitError

app = typer.Typer(help="verikit: process verification (Math-Shepherd and beyond).", no_args_is_help=True, add_completion=False)
console = Console()


def _write_json(data, out: Optional[Path]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out is None:
        print(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {out}")


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
            table.add_row(key, entry["name"], entry["plugin"], entry["description"])
    console.print(table)
    for failure in host.failures:
        console.print(f"[red]plugin {failure.plugin!r} failed at {failure.stage}:[/red] {failure.error}")
    for note in host.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)


@app.command()
def check(
    path: Path = typer.Argument(..., help="JSONL with one {\"solution\": str, \"gold\": str} per line."),
    checker: str = typer.Option(..., "--checker", "-c", help="Registered answer checker, e.g. gsm8k or math."),
    out: Optional[Path] = typer.Option(None, help="Write per-row verdicts and totals as JSON here."),
) -> None:
    """Grade solutions against gold answers with a named checker."""
    from verikit.checking import check_file

    result = check_file(path, checker)
    console.print(f"{result['correct']}/{result['n']} correct ({100 * result['accuracy']:.1f}%) with checker {checker!r}")
    if out is not None:
        _write_json(result, out)


@app.command("checker-report")
def checker_report(
    dataset: str = typer.Option(..., help="Dataset and split, e.g. gsm8k-test or math500."),
    data_dir: Optional[Path] = typer.Option(None, help="Benchmark data folder (default: $VERIKIT_DATA or ../shared/data)."),
    limit: Optional[int] = typer.Option(None, help="Only the first N problems."),
    out: Optional[Path] = typer.Option(None, help="Write the report as JSON here."),
) -> None:
    """Gold-vs-gold agreement: extract each gold solution's answer and compare it with the gold answer."""
    from verikit.checking import gold_vs_gold

    report = gold_vs_gold(dataset, data_dir=data_dir, limit=limit)
    console.print(
        f"[bold]{dataset}[/bold]: {report['agree']}/{report['n']} = {100 * report['accuracy']:.1f}% "
        f"gold-vs-gold agreement ({', '.join(report['checkers'])} checker, {report['seconds']:.1f}s)"
    )
    for miss in report["misses"]:
        console.print(f"  miss {miss['id']}: gold={miss['gold_answer']!r} extracted={miss['extracted']!r}", markup=False)
    if out is not None:
        _write_json(report, out)


def _annotation_config(**kwargs):
    from pydantic import ValidationError

    from verikit.annotation.config import AnnotationConfig

    try:
        return AnnotationConfig(**{k: v for k, v in kwargs.items() if v is not None})
    except ValidationError as exc:  # one line per bad option, named as the user typed it
        options = {"samples_per_problem": "samples", "n_rollouts": "n", "backend": "completer-backend"}
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            lines.append(f"--{options.get(field, field).replace('_', '-')}: {error['msg']} (got {error.get('input')!r})")
        raise VerikitError("; ".join(lines)) from None


@app.command()
def annotate(
    dataset: str = typer.Option(..., help="Registered dataset, e.g. arith-easy or gsm8k."),
    generator: str = typer.Option(..., help="Model that samples the solutions (path or hub id)."),
    out: Path = typer.Option(..., help="Annotation folder (created; an existing one is resumed)."),
    completer: Optional[str] = typer.Option(None, help="Model that rolls out from step prefixes (default: the generator)."),
    split: str = typer.Option("train"),
    limit: Optional[int] = typer.Option(None, help="Only the first N problems."),
    samples: int = typer.Option(4, help="K: solutions sampled per problem."),
    n: int = typer.Option(8, help="N: rollouts per step."),
    strategy: str = typer.Option("naive", help="naive, early-exit or binary-search."),
    estimator: str = typer.Option("hard", help="hard or soft (labels of naive)."),
    temperature: float = typer.Option(1.0, help="Sampling temperature of the generator."),
    rollout_temperature: Optional[float] = typer.Option(None, help="Temperature of the rollouts (default: --temperature)."),
    round_size: int = typer.Option(2, help="Rollouts per round of an early-exit probe."),
    seed: int = typer.Option(0),
    max_new_tokens: int = typer.Option(256),
    chunk_size: int = typer.Option(8, help="Problems per resumable work chunk."),
    batch_size: int = typer.Option(512, help="Sequences per generate call."),
    device: str = typer.Option("auto"),
    completer_backend: str = typer.Option("transformers", help="Registered completer: transformers, openai, …"),
    backend: str = typer.Option("local", help="local (this process) or ray (chunks shared out to Ray workers)."),
    workers: int = typer.Option(2, help="Ray workers (with --backend ray)."),
    ray_address: Optional[str] = typer.Option(None, help="Join this Ray cluster (default: start a local one)."),
    retry_errors: bool = typer.Option(False, help="Recompute the solutions stored with an error (e.g. after fixing a checker)."),
) -> None:
    """Monte Carlo process annotation: sample solutions, roll out from every step, label, store (resumable)."""
    from verikit.annotation.driver import annotate as run_locally

    from functools import partial

    if backend == "ray":
        from verikit.annotation.distributed import annotate_with_ray

        run = partial(annotate_with_ray, workers=workers, address=ray_address, retry_errors=retry_errors)
    elif backend == "local":
        run = partial(run_locally, retry_errors=retry_errors)
    else:
        raise typer.BadParameter(f"choose local or ray, not {backend!r}", param_hint="--backend")

    config = _annotation_config(dataset=dataset, generator=generator, completer=completer, split=split, limit=limit,
                                samples_per_problem=samples, n_rollouts=n, strategy=strategy, estimator=estimator,
                                temperature=temperature, rollout_temperature=rollout_temperature, round_size=round_size,
                                seed=seed, max_new_tokens=max_new_tokens, chunk_size=chunk_size,
                                batch_size=batch_size, device=device, backend=completer_backend)
    summary = run(config, out)
    for repair in summary.repairs:
        console.print(f"[yellow]repaired[/yellow] {repair}", markup=True, highlight=False)
    console.print(
        f"{summary.solutions} solutions of {summary.problems} problems in {out} "
        f"({summary.skipped_chunks} chunks already done); rollouts used {summary.rollouts_used}, "
        f"generated {summary.rollouts_generated} ({summary.rollout_tokens} tokens) in {summary.seconds:.0f}s"
    )
    for kind, count in summary.errors.items():
        console.print(f"[red]{count} solutions not labelled:[/red] {kind}", markup=True, highlight=False)
    if summary.gold_errors:
        console.print(f"[yellow]{len(summary.gold_errors)} problems skipped:[/yellow] {summary.gold_errors[0]}"
                      + (f" (and {len(summary.gold_errors) - 1} more)" if len(summary.gold_errors) > 1 else ""),
                      markup=True, highlight=False)
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
    _write_json(result, out)
    plot = plot or out.with_suffix(".png")
    plot_quality(result, plot)
    console.print(f"wrote {plot}")
    for strategy in ("naive", "early-exit", "binary-search"):
        row = "  ".join(f"N={n}: {100 * v['accuracy']:.1f}% ({v['rollouts_per_solution']:.1f} r/sol)" for n, v in result[strategy].items())
        console.print(f"{strategy:>13}  {row}")
    soft = "  ".join(f"N={n}: {100 * v['accuracy']:.1f}% auc {v['step_auc'] or float('nan'):.3f}" for n, v in result["soft"].items())
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
    console.print(f"wrote {written} rows to {out}" + (f" ({skipped} records without labels not exported)" if skipped else ""))


@app.command("serve")
def serve_command(
    model: Optional[str] = typer.Option(None, help="Causal LM for /v1/completions (folder or hub id)."),
    prm: Optional[str] = typer.Option(None, help="PRM folder for /v1/score."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; beyond loopback an --api-key is required."),
    port: int = typer.Option(8000),
    device: str = typer.Option("auto"),
    api_key: Optional[str] = typer.Option(None, help="Require 'Authorization: Bearer KEY' (default: $VERIKIT_API_KEY)."),
    max_queue: int = typer.Option(64, help="Requests that may wait for the model; one more gets 503."),
    max_n: int = typer.Option(64, help="Largest n per request."),
    max_tokens: int = typer.Option(1024, help="Largest max_tokens per request."),
    max_prompt_chars: int = typer.Option(32_000, help="Longest prompt (or scored solution) in characters."),
    max_request_tokens: int = typer.Option(262_144, help="Largest prompts x n x max_tokens of one request."),
    max_queued_tokens: int = typer.Option(1_048_576, help="Largest prompts x n x max_tokens waiting in the queue."),
    max_body_bytes: int = typer.Option(4 * 1024 * 1024, help="Largest request body."),
) -> None:
    """Serve an OpenAI-compatible /v1/completions endpoint and a /v1/score PRM endpoint (extra verikit[serve])."""
    from verikit.serve import ServeLimits, serve

    serve(model, prm, host=host, port=port, device=device, api_key=api_key,
          limits=ServeLimits(max_queue=max_queue, max_n=max_n, max_tokens=max_tokens, max_prompt_chars=max_prompt_chars,
                             max_request_tokens=max_request_tokens, max_queued_tokens=max_queued_tokens,
                             max_body_bytes=max_body_bytes))


from verikit.rm.commands import register as _register_reward_model_commands  # noqa: E402
from verikit.rl.commands import rl as _rl_command  # noqa: E402

app.command("rl")(_rl_command)

_register_reward_model_commands(app)


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
