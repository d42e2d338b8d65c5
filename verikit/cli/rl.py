"""``verikit rl``: reinforcement learning with process (or outcome) rewards (:func:`verikit.rl.runs.run_rl`).

The run's options come from :class:`~verikit.rl.runs.RLConfig`, the PPO ones from
:class:`~verikit.rl.ppo.StepPPOConfig` (``--learning-rate``, ``--kl-coef`` …) and GRPO's from
:class:`~verikit.rl.runs.GRPORecipe` (``--grpo-num-generations`` …), so no setting is typed here.
"""

from __future__ import annotations

from pathlib import Path

import typer

from verikit.cli.app import app
from verikit.cli.options import config_options
from verikit.rl.config import StepPPOConfig
from verikit.rl.config import GRPORecipe, RLConfig


@app.command("rl")
@config_options(GRPORecipe, param="grpo", rename={f: f"grpo_{f}" for f in GRPORecipe.model_fields})
@config_options(StepPPOConfig, param="ppo")
@config_options(RLConfig, param="run", exclude=("ppo", "grpo"))
def rl(
    run: RLConfig,
    ppo: StepPPOConfig,
    grpo: GRPORecipe,
    out: Path = typer.Option(..., help="Output folder (checkpoints; a killed run resumes)."),
) -> None:
    """Reinforcement learning with process (or outcome) rewards, with periodic greedy evaluation on dev."""
    from verikit.rl.runs import run_rl

    config = run.model_copy(update={"ppo": ppo, "grpo": grpo})  # each part was validated as its options were read
    summary = run_rl(config, out)
    typer.echo(f"{config.algo}: dev greedy accuracy {100 * summary['dev_greedy_acc']:.1f}%; wrote {out / 'rl.json'}")
