"""``verikit arith …``: the miniature's commands (thin wrappers over the library)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="The synthetic arithmetic domain (the CPU miniature).", no_args_is_help=True)


@app.command("train-generator")
def train_generator_command(
    preset: str = typer.Option("arith-easy", help="arith-easy or arith-hard."),
    role: str = typer.Option(
        "policy",
        help="policy (the model verified in best-of-N) or completer (annotates; "
        "the reward models' base; trained longer).",
    ),
    out: Optional[Path] = typer.Option(None, help="Also copy the trained model here."),
    max_steps: Optional[int] = typer.Option(None, help="Override the preset's number of training steps."),
    force: bool = typer.Option(False, help="Retrain even if a cached model with this config exists."),
) -> None:
    """Train the tiny generator from scratch (or reuse the cached one with the same config)."""
    import dataclasses

    from verikit_arith.training import default_config, train_generator

    config = default_config(preset, role)
    if max_steps is not None:
        config = dataclasses.replace(config, max_steps=max_steps)
    path = train_generator(preset, out=out, config=config, force=force, role=role)
    summary = json.loads((path / "verikit_generator.json").read_text())
    typer.echo(
        f"{role} for {preset}: {path} ({summary['parameters']:,} parameters, "
        f"trained in {summary['train_seconds']:.0f}s, final loss {summary['train_loss']:.3f})"
    )


@app.command("eval-generator")
def eval_generator_command(
    model: Path = typer.Option(..., help="Folder of a trained generator."),
    preset: str = typer.Option("arith-easy", help="arith-easy or arith-hard."),
    n: int = typer.Option(16, help="Samples per problem for maj@n and pass@n."),
    split: str = typer.Option("test", help="train, dev or test."),
    limit: Optional[int] = typer.Option(None, help="Only the first N problems."),
    temperature: float = typer.Option(1.0, help="Sampling temperature."),
    seed: int = typer.Option(0),
    out: Optional[Path] = typer.Option(None, help="Write the figures as JSON here."),
) -> None:
    """Greedy accuracy, maj@n and pass@n of a generator on a split."""
    from verikit_arith.evaluation import evaluate_generator

    result = evaluate_generator(model, preset=preset, n=n, split=split, limit=limit, temperature=temperature, seed=seed)
    typer.echo(
        f"{preset} {split} ({result['n_problems']} problems): greedy {100 * result['greedy_acc']:.1f}%  "
        f"maj@{n} {100 * result['maj_at_n']:.1f}%  pass@{n} {100 * result['pass_at_n']:.1f}%  "
        f"(pass-maj {100 * (result['pass_at_n'] - result['maj_at_n']):.1f} points, {result['seconds']:.0f}s)"
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        typer.echo(f"wrote {out}")


def demo_command(
    out: Path = typer.Option(Path("out/demo"), help="Output folder (stages already there are reused)."),
    presets: str = typer.Option("arith-easy", help="Comma list: arith-easy, arith-hard (hard trains two more models)."),
    test_problems: int = typer.Option(500, help="Test problems in the table."),
    samples: int = typer.Option(64, help="N: samples per test problem."),
    temperature: float = typer.Option(
        0.6, help="Sampling temperature of the policy (chosen on the dev split: python -m benchmarks.temperature_dev)."
    ),
    annotate_problems: int = typer.Option(400, help="Train problems annotated for the reward models."),
    strategy: str = typer.Option(
        "early-exit",
        help="Rollout schedule of the annotation: early-exit (hard labels of "
        "N rollouts, ~1/5 of the rollouts) or naive (the paper's).",
    ),
    seed: int = typer.Option(0),
    policy: Optional[str] = typer.Option(None, help="Use this policy model instead of the trained/cached one."),
    completer: Optional[str] = typer.Option(None, help="Use this completer model instead of the trained/cached one."),
    verifier_prm: Optional[bool] = typer.Option(
        None,
        "--verifier-prm/--no-verifier-prm",
        help="The row verifier-PRM: the paper's tag head on the verifier base (arith:<preset>/verifier, about 8 CPU "
        "minutes once), trained on the same MC labels up to each solution's first '-'. On unless --completer is given "
        "(the base is made from the cached completer).",
    ),
) -> None:
    """The paper's Table 1 on the CPU miniature: the arith recipe through the core pipeline (verikit reproduce)."""
    from verikit_arith.demo import demo_overrides, run_demo

    if verifier_prm and completer:
        raise typer.BadParameter(
            "the verifier base is made from the cached completer: drop --completer", param_hint="--completer"
        )
    run_demo(
        out,
        [p.strip() for p in presets.split(",") if p.strip()],
        demo_overrides(test_problems, samples, temperature, annotate_problems, strategy, seed, policy, completer),
        verifier_prm=not completer if verifier_prm is None else verifier_prm,
    )
