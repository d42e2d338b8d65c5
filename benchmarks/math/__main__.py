"""The paper's recipes (shipped with verikit-math: ``verikit_math/recipes``, also ``verikit reproduce --recipe NAME``),
run by the core pipeline: a thin runner over ``verikit reproduce``.

    python -m benchmarks.math list
    python -m benchmarks.math run --recipe table1-llama2-70b [--stage annotate,train] [--smoke] [--out DIR] [--set k=v]

A recipe is named by its file stem here (or given as a path). ``--smoke`` runs every stage on CPU in a minute:
one tiny local model, a few real GSM8K / MATH rows from ``$VERIKIT_DATA`` (the plumbing, not accuracy). GPU runs
need the models on the hub or in its cache, vLLM for ``backend: vllm`` and DeepSpeed for the ZeRO-3 configs in
``verikit_math/accelerate/``; docs/reproducing.md and docs/scale.md say how many GPUs each recipe wants.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from verikit_math.plugin import RECIPES


def recipe_path(name: str) -> Path:
    path = Path(name)
    return path if path.suffix in (".yaml", ".yml") or path.exists() else RECIPES / f"{name}.yaml"


def main(argv: list[str] | None = None) -> dict | None:
    from verikit.pipeline import reproduce

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.math", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="The paper's recipes.")
    run = commands.add_parser("run", help="Run a recipe (every stage, or --stage).")
    run.add_argument(
        "--recipe", required=True, help="A recipe of verikit-math (python -m benchmarks.math list), or a path."
    )
    run.add_argument("--stage", default=None, help="Comma list of stages (default: all the recipe has).")
    run.add_argument("--smoke", action="store_true", help="Tiny local model, a few real rows, CPU.")
    run.add_argument("--out", type=Path, default=None)
    run.add_argument(
        "--set", dest="overrides", action="append", default=[], help="Override a recipe field: key.path=value."
    )
    args = parser.parse_args(argv)
    if args.command == "list":
        for path in sorted(RECIPES.glob("*.yaml")):
            print(path.stem)
        return None
    stages = [s for s in args.stage.split(",") if s] if args.stage else None
    out = args.out or Path("out/math") / (recipe_path(args.recipe).stem + ("-smoke" if args.smoke else ""))
    return reproduce(recipe_path(args.recipe), out, stages=stages, smoke=args.smoke, overrides=args.overrides)


if __name__ == "__main__":
    main()
