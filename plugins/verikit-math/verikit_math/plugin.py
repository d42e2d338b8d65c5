"""The hook implementations of verikit-math (entry point ``math``). Targets load lazily."""

from verikit.domains import Domain
from verikit.hookspecs import hookimpl


@hookimpl
def register_answer_checkers(register):
    register("gsm8k", "verikit_math.gsm8k:GSM8KChecker", description="GSM8K numeric answers (####, 'The answer is', last number)")
    register("math", "verikit_math.math_checker:MATHChecker", description="MATH LaTeX answers (\\boxed{}, symbolic via math-verify)")


@hookimpl
def register_step_splitters(register):
    register("gsm8k", "verikit_math.splitters:GSM8KSplitter", description="one step per line")
    register("math", "verikit_math.splitters:MATHSplitter", description="paragraphs, never inside display math")


@hookimpl
def register_datasets(register):
    register("gsm8k", "verikit_math.datasets:load_gsm8k", description="GSM8K train/test")
    register("math500", "verikit_math.datasets:load_math500", description="MATH-500 test")
    register("math-train", "verikit_math.datasets:load_math_train", description="MATH train (12k)")


@hookimpl
def register_domains(register):
    register("gsm8k", Domain(name="gsm8k", answer_checker="gsm8k", step_splitter="gsm8k", datasets=["gsm8k"]))
    register("math", Domain(name="math", answer_checker="math", step_splitter="math", datasets=["math500", "math-train"]))
