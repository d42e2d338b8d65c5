"""``verikit train-prm | train-orm | score | prm-eval | make-processbench`` (thin wrappers over verikit.rm)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from verikit.cli.app import app
from verikit.cli.options import config_options
from verikit.rm.config import PRMConfig


def _echo_summary(kind: str, out: Path, summary: dict) -> None:
    skipped = ", ".join(f"{n} {reason}" for reason, n in summary["skipped_records"].items()) or "none"
    typer.echo(
        f"{kind} trained on {summary['examples']} solutions ({summary['trained_tags']} tags) in "
        f"{summary['train_seconds']:.0f}s, loss {summary['train_loss']:.4f}"
        f"{' (resumed)' if summary['resumed'] else ''}; records skipped: {skipped}; saved to {out}"
    )
    if summary["tags_dropped_by_truncation"]:
        typer.echo(
            f"warning: {summary['tags_dropped_by_truncation']} step tags fell beyond --max-length and were not trained"
        )


@app.command("train-prm")
@config_options(PRMConfig, exclude=("objective",))
def train_prm(
    config: PRMConfig,
    data: Path = typer.Option(..., help="Annotation folder, Math-Shepherd JSONL or TRL stepwise JSONL."),
    out: Path = typer.Option(..., help="Folder for the trained PRM (an interrupted run resumes from it)."),
    kind: str = typer.Option(
        "prm",
        help="Registered reward-model kind: prm (the paper's tag head; the options above are "
        "its settings), likelihood (beyond the paper: a logistic head on the frozen "
        "base's per-step log-probs; its settings with --set), or a plugin's.",
    ),
    set_: list[str] = typer.Option([], "--set", help="A setting of a kind other than prm: --set regularization=0.5."),
    head: Optional[str] = typer.Option(None, hidden=True, help="Deprecated: --kind."),
    domain: Optional[str] = typer.Option(
        None, help="Domain whose prompt and step format the likelihood head reads (default: the annotations')."
    ),
) -> None:
    """Train a process reward model: + / - at every step tag (Math-Shepherd), or another registered kind."""
    if head is not None:
        typer.echo("warning: --head is deprecated; use --kind", err=True)
        kind = "prm" if head == "tag" else head
    if kind == "prm":
        if set_:
            raise typer.BadParameter(
                "the tag head's settings are options of this command, not --set", param_hint="--set"
            )
        from verikit.rm.training import train_reward_model

        _echo_summary(f"PRM ({config.labels} labels)", out, train_reward_model(config, data, out))
        return
    from verikit.overrides import overridden
    from verikit.rm.data import load_examples
    from verikit.rm.kinds import trainable_kind

    chosen = trainable_kind(kind)
    settings = overridden(chosen.settings, {}, set_)
    examples = load_examples(data, chosen.targets, config.labels)
    summary = chosen.train(settings, config.base, examples, out, labels=config.labels, domain=domain or examples.domain)
    typer.echo(
        f"{kind} reward model ({config.labels} labels) on {summary.get('examples')} solutions over {config.base} in "
        f"{summary.get('train_seconds', 0):.0f}s; saved to {out}"
    )


@app.command("train-orm")
@config_options(PRMConfig, exclude=("objective", "labels"))
def train_orm(
    config: PRMConfig,
    data: Path = typer.Option(..., help="Annotation folder (or Math-Shepherd/TRL JSONL)."),
    out: Path = typer.Option(..., help="Folder for the trained ORM."),
) -> None:
    """Train an outcome reward model: final-answer correctness, read at the last step tag."""
    from verikit.rm.training import train_reward_model

    _echo_summary("ORM", out, train_reward_model(config.model_copy(update={"objective": "orm"}), data, out))


@app.command("score")
def score(
    model: str = typer.Option(
        ..., help="PRM folder, hub id (e.g. peiyi9979/math-shepherd-mistral-7b-prm) or a verikit serve URL."
    ),
    input: Path = typer.Option(..., "--input", help="JSONL rows with question (or problem) and steps (a list)."),
    out: Optional[Path] = typer.Option(None, help="Write rows with step_scores and score here (default: stdout)."),
    agg: str = typer.Option("min", help="min (paper), prod, last or mean."),
    batch_size: int = typer.Option(16),
    released_convention: bool = typer.Option(
        False, help="Read a model without verikit_rm.json as a Math-Shepherd PRM (+/- at ки)."
    ),
) -> None:
    """Per-step PRM scores for solutions, one forward pass each, and their aggregate."""
    from verikit.jsonl import write_jsonl
    from verikit.rm.score_files import score_file

    results = score_file(model, input, agg=agg, batch_size=batch_size, released_convention=released_convention)
    if out is None:
        for row in results:
            print(json.dumps(row, ensure_ascii=False))
    else:
        write_jsonl(out, results)
        typer.echo(f"scored {len(results)} solutions with {model}; wrote {out}")


@app.command("prm-eval")
def prm_eval(
    model: list[str] = typer.Option(..., help="NAME=PATH of a PRM or ORM; repeat for several."),
    dev: Path = typer.Option(..., help="ProcessBench rows for choosing the first-error threshold."),
    test: Path = typer.Option(..., help="ProcessBench rows to report on."),
    out: Path = typer.Option(..., help="Write {model: {step_auc, solution_auc, first_error_f1, …}} JSON here."),
    agg: str = typer.Option("min", help="Aggregation for solution-level metrics."),
    released_convention: bool = typer.Option(False, help="Read models without verikit_rm.json as Math-Shepherd PRMs."),
    step_prefixes: Optional[bool] = typer.Option(
        None,
        "--step-prefixes/--no-step-prefixes",
        help=(
            "Score steps as 'Step i: …' (the released Math-Shepherd PRM's training layout) or with such prefixes "
            "removed; "
            "default: as the rows have them."
        ),
    ),
) -> None:
    """Step AUC, solution AUC, within-problem pairwise AUC and ProcessBench first-error F1 of reward models."""
    from verikit.components import load_scorer
    from verikit.rm.evaluation import evaluate_model
    from verikit.rm.processbench import load_processbench

    dev_rows, test_rows = load_processbench(dev), load_processbench(test)
    result = {}
    for spec in model:
        name, _, path = spec.partition("=")
        if not path:
            name, path = Path(spec).name, spec
        result[name] = evaluate_model(
            load_scorer(path, released_convention=released_convention),
            dev_rows,
            test_rows,
            agg=agg,
            step_prefixes=step_prefixes,
        )
        typer.echo(f"{name:>12}: " + _metrics_line(result[name]))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    typer.echo(f"wrote {out}")


def _metrics_line(r: dict) -> str:
    def fmt(value):
        return "n/a" if value is None else f"{value:.3f}"

    return (
        f"step AUC {fmt(r['step_auc'])}  solution AUC {fmt(r['solution_auc'])}  pairwise {fmt(r['pairwise_auc'])}  "
        f"first-error F1 {fmt(r['first_error_f1'])} (erroneous {fmt(r['acc_erroneous'])}, correct "
        f"{fmt(r['acc_correct'])}, τ={r['threshold']:.3f})"
    )


@app.command("make-processbench")
def make_processbench(
    dataset: str = typer.Option(
        ..., help="Registered dataset whose domain has a gold step labeller (e.g. arith-easy)."
    ),
    generator: str = typer.Option(..., help="Model that samples the solutions."),
    out: Path = typer.Option(..., help="JSONL of ProcessBench rows (with step_labels and problem_id)."),
    split: str = typer.Option("dev"),
    problems: int = typer.Option(200),
    samples: int = typer.Option(4),
    temperature: float = typer.Option(1.0),
    seed: int = typer.Option(0),
    max_new_tokens: int = typer.Option(256),
    backend: str = typer.Option("transformers", help="Registered completer backend that samples."),
) -> None:
    """Sample solutions and label them with the domain's exact gold labeller, as ProcessBench rows."""
    from verikit.jsonl import write_jsonl
    from verikit.rm.processbench import make_rows

    rows, counts = make_rows(
        dataset,
        split,
        generator,
        problems,
        samples,
        temperature=temperature,
        seed=seed,
        max_new_tokens=max_new_tokens,
        backend=backend,
    )
    write_jsonl(out, rows)
    typer.echo(
        f"wrote {counts['rows']} rows to {out}: {counts['erroneous']} with an error, {counts['final_correct']} "
        f"with a correct final answer; {counts['no_steps']} samples without steps and {counts['step_tag_in_text']} "
        f"with the step tag in their text left out"
    )
