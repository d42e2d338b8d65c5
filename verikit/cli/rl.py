"""``verikit rl``: reinforcement learning with process (or outcome) rewards (:func:`verikit.rl.runs.run_rl`).

The run's options come from :class:`~verikit.rl.config.RLConfig`, the PPO ones from
:class:`~verikit.rl.config.StepPPOConfig` (``--learning-rate``, ``--kl-coef`` …), RFT's from
:class:`~verikit.rl.config.RFTSettings` (``--rft-samples`` …) and GRPO's from
:class:`~verikit.rl.config.GRPOSettings` (``--grpo-num-generations`` …), so no setting is typed here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from verikit.cli.app import app
from verikit.cli.options import config_options
from verikit.rl.config import GRPOSettings, RFTSettings, RLConfig, StepPPOConfig


@app.command("rl")
@config_options(GRPOSettings, param="grpo", rename={f: f"grpo_{f}" for f in GRPOSettings.model_fields})
@config_options(RFTSettings, param="rft", rename={f: f"rft_{f}" for f in RFTSettings.model_fields})
@config_options(StepPPOConfig, param="ppo")
@config_options(RLConfig, param="run", exclude=("ppo", "grpo", "rft"), rename={"datasets": "dataset"})
def rl(
    run: RLConfig,
    ppo: StepPPOConfig,
    rft: RFTSettings,
    grpo: GRPOSettings,
    out: Path = typer.Option(..., help="Output folder (checkpoints; a killed run resumes)."),
    domain: Optional[str] = typer.Option(
        None, help="The one domain of the problems (needed when the datasets' differ)."
    ),
) -> None:
    """Reinforcement learning with process (or outcome) rewards, with periodic greedy evaluation on dev."""
    from verikit.rl.runs import run_rl

    config = run.model_copy(
        update={"ppo": ppo, "rft": rft, "grpo": grpo}
    )  # each part was validated as its options were read
    summary = run_rl(config, out, domain=domain)
    accuracy = summary.get("dev_greedy_acc")
    typer.echo(
        f"{config.algo}: dev greedy accuracy {'n/a' if accuracy is None else f'{100 * accuracy:.1f}%'}; "
        f"wrote {out / 'rl.json'}"
    )
