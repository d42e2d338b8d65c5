"""Hook implementations of verikit-arith (entry point ``arith``). Targets load lazily."""

from functools import partial

from verikit.domains import Domain
from verikit.hookspecs import hookimpl

from verikit_arith.problems import PROMPT_TEMPLATE  # light: no torch, no transformers


@hookimpl
def register_answer_checkers(register):
    register("arith", "verikit_arith.checker:ArithChecker", description="integer after 'The answer is'")


@hookimpl
def register_datasets(register):
    for preset in ("arith-easy", "arith-hard"):
        register(preset, partial(_lazy_load, preset), description=f"synthetic arithmetic, {preset} (seeded)")


def _lazy_load(preset: str, split: str = "test", data_dir=None, limit: int | None = None):
    """Problems of the preset's split; ``data_dir`` is ignored (the problems are generated, seeded)."""
    from verikit_arith.problems import load_split

    return load_split(preset, split, limit=limit)


@hookimpl
def register_domains(register):
    register("arith", Domain(name="arith", answer_checker="arith", step_splitter="lines",
                             datasets=["arith-easy", "arith-hard"], prompt_template=PROMPT_TEMPLATE,
                             gold_labeller="verikit_arith.labeller:step_correctness",
                             description="synthetic arithmetic with exact gold step labels"))


@hookimpl
def register_commands(cli):
    from verikit_arith.cli import app, demo_command

    cli.add_typer(app, name="arith")
    cli.command("demo")(demo_command)
