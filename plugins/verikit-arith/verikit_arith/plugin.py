"""Hook implementations of verikit-arith (entry point ``arith``). Targets load lazily."""

from functools import partial
from pathlib import Path

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
    register(
        "arith",
        Domain(
            name="arith",
            answer_checker="arith",
            step_splitter="lines",
            datasets=["arith-easy", "arith-hard"],
            prompt_template=PROMPT_TEMPLATE,
            gold_labeller="verikit_arith.labeller:step_correctness",
            description="synthetic arithmetic with exact gold step labels",
        ),
    )


@hookimpl
def register_recipes(register):
    for preset in ("arith-easy", "arith-hard"):
        register(
            preset,
            Path(__file__).parent / "recipes" / f"{preset}.yaml",
            description=f"Table 1 on {preset} (the CPU miniature)",
        )


def provide_generator(spec: str, *, check: bool = False):
    """``arith-easy/policy`` → the folder of that tiny generator, trained on first use and cached after (the policy
    chosen on dev to be mid-regime at its seed: :mod:`verikit_arith.policy`); ``arith-easy/policy?seed=2`` trains it
    at another seed (data stream and initialisation); ``arith-easy/verifier`` is the reward models' base made from
    the completer (:mod:`verikit_arith.verifier`)."""
    import dataclasses

    name, _, query = spec.partition("?")
    preset, _, role = name.partition("/")
    seed = query.removeprefix("seed=")
    if (
        preset not in ("arith-easy", "arith-hard")
        or role not in ("policy", "completer", "verifier")
        or (query and not seed.isdigit())
    ):
        raise ValueError(f"no arith model {spec!r}; use <arith-easy|arith-hard>/<policy|completer|verifier>[?seed=N]")
    if check:
        return None
    if role == "verifier":
        from verikit_arith.verifier import verifier_base

        return verifier_base(preset, seed=int(seed or 0))
    if role == "policy":
        from verikit_arith.policy import select_policy

        return select_policy(preset, seed=int(seed or 0))
    from verikit_arith.training import default_config, train_generator

    config = default_config(preset, role)
    if query:
        config = dataclasses.replace(config, seed=int(seed))
    return train_generator(preset, role=role, config=config)


@hookimpl
def register_model_providers(register):
    register(
        "arith",
        provide_generator,
        description="the miniature's tiny models: arith:<preset>/<policy|completer|verifier>",
    )


@hookimpl
def register_commands(cli):
    from verikit_arith.cli import app, demo_command

    cli.add_typer(app, name="arith")
    cli.command("demo")(demo_command)
