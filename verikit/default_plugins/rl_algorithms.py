"""Registers the core's RL algorithms (:mod:`verikit.rl.algorithms`)."""

from verikit.hookspecs import hookimpl


@hookimpl
def register_rl_algorithms(register):
    register(
        "rft", "verikit.rl.algorithms:RFT", description="rejection-sampling fine-tuning (the paper's Table 2 baseline)"
    )
    register(
        "step-ppo", "verikit.rl.algorithms:STEP_PPO", description="PPO with a PRM's reward at every step (the paper)"
    )
    register("orm-ppo", "verikit.rl.algorithms:ORM_PPO", description="PPO with an ORM's reward at the end")
    register(
        "grpo-process",
        "verikit.rl.algorithms:GRPO_PROCESS",
        description="GRPO with process advantages (TRL; beyond the paper)",
    )
