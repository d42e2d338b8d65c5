"""Registers the core's pipeline stages (:mod:`verikit.pipeline.stages`), in the order a run takes them when their
``after`` lists allow it."""

from verikit.hookspecs import hookimpl

CORE_STAGES = ("models", "finetune", "annotate", "human_labels", "train", "rl", "sample", "score", "select", "report")


@hookimpl
def register_stages(register):
    for name in CORE_STAGES:
        register(name.replace("_", "-"), f"verikit.pipeline.stages.{name}:STAGE")
