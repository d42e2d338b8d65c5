"""The hook implementations of verikit-math (entry point ``math``). Targets load lazily."""

from pathlib import Path

from verikit.domains import Domain
from verikit.hookspecs import hookimpl


@hookimpl
def register_answer_checkers(register):
    register(
        "gsm8k",
        "verikit_math.gsm8k:GSM8KChecker",
        description="GSM8K numeric answers (####, 'The answer is', last number)",
    )
    register(
        "math",
        "verikit_math.math_checker:MATHChecker",
        description="MATH LaTeX answers (\\boxed{}, symbolic via math-verify)",
    )


@hookimpl
def register_step_splitters(register):
    register("gsm8k", "verikit_math.splitters:GSM8KSplitter", description="one step per line")
    register("math", "verikit_math.splitters:MATHSplitter", description="paragraphs, never inside display math")


@hookimpl
def register_datasets(register):
    register("gsm8k", "verikit_math.datasets:load_gsm8k", description="GSM8K train/test")
    register("math500", "verikit_math.datasets:load_math500", description="MATH-500 test")
    register("math-test", "verikit_math.datasets:load_math_test", description="MATH test, all 5,000 (MATH-500 + 4,500)")
    register("math-train", "verikit_math.datasets:load_math_train", description="MATH train (7,500, no test problem)")
    register(
        "metamathqa", "verikit_math.datasets:load_metamathqa", description="MetaMathQA (395k), the paper's SFT data"
    )


@hookimpl
def register_domains(register):
    register("gsm8k", Domain(name="gsm8k", answer_checker="gsm8k", step_splitter="gsm8k", datasets=["gsm8k"]))
    register(
        "math",
        Domain(
            name="math", answer_checker="math", step_splitter="math", datasets=["math500", "math-test", "math-train"]
        ),
    )
    # The paper's models write MetaMath's format whatever the dataset: one step per line (Math-Shepherd puts its
    # step tag at each line's end) and "The answer is: X", which the MATH checker reads for numbers and LaTeX alike.
    register(
        "metamath",
        Domain(
            name="metamath",
            answer_checker="math",
            step_splitter="lines",
            datasets=["gsm8k", "math500", "math-test", "math-train", "metamathqa"],
        ),
    )


#: The paper's experiment as recipes (docs/reproducing.md): its annotation and reward models, Tables 1-3, and the
#: check of automatic against human labels; with the accelerate configs they train under (``accelerate/``).
RECIPES = Path(__file__).parent / "recipes"


@hookimpl
def register_recipes(register):
    import yaml

    for path in sorted(RECIPES.glob("*.yaml")):
        description = yaml.safe_load(path.read_text(encoding="utf-8")).get("description", "")
        register(path.stem, path, description=description)
