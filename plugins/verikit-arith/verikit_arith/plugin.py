"""Hook implementations of verikit-arith (entry point ``arith``). Targets load lazily."""

from functools import partial

from verikit.domains import Domain
from verikit.hookspecs import hookimpl


def _loader(preset: str):
    from verikit_arith.problems import load_split

    def load(split: str = "test", data_dir=None, limit: int | None = None):
        """Problems of the preset's split; ``data_dir`` is ignored (the problems are generated, seeded)."""
        return load_split(preset, split, limit=limit)

    return load


@hookimpl
def register_answer_checkers(register):
    register("arith", "verikit_arith.checker:ArithChecker", description="integer after 'The answer is'")


@hookimpl
def register_datasets(register):
    for preset in ("arith-easy", "arith-hard"):
        register(preset, partial(_lazy_load, preset), description=f"synthetic arithmetic, {preset} (seeded)")


def _lazy_load(preset: str, split: str = "test", data_dir=None, limit: int | None = None):
    return _loader(preset)(split=split, data_dir=data_dir, limit=limit)


@hookimpl
def register_domains(register):
    register("arith", Domain(name="arith", answer_checker="arith", step_splitter="lines",
                             datasets=["arith-easy", "arith-hard"], prompt_template="{question}\n",
                             gold_labeller="verikit_arith.labeller:step_correctness",
                             description="synthetic arithmetic with exact gold step labels"))


@hookimpl
def register_commands(cli):
    from verikit_arith.cli import app

    cli.add_typer(app, name="arith")
