"""Registers the core's annotation strategies (:mod:`verikit.annotation.strategies`)."""

from verikit.hookspecs import hookimpl


@hookimpl
def register_strategies(register):
    register("naive", "verikit.annotation.strategies:naive", description="N rollouts from every step (the paper)")
    register(
        "early-exit",
        "verikit.annotation.strategies:early_exit",
        description="last step first, stop at the first correct rollout (hard labels, fewer rollouts)",
    )
    register(
        "binary-search",
        "verikit.annotation.strategies:binary_search",
        description="OmegaPRM-style search for the first bad step, O(log K) probes",
    )
