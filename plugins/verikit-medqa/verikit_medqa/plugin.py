"""Hook implementations of verikit-medqa (entry point ``medqa``). Targets are imported lazily."""

from verikit import Domain
from verikit.hookspecs import hookimpl

PROMPT_TEMPLATE = "Question: {question}\nLet's reason step by step, then state the answer as (X).\n"


@hookimpl
def register_answer_checkers(register):
    register("medqa", "verikit_medqa.checker:MultipleChoiceChecker", description="chosen option letter (or its text)")


@hookimpl
def register_step_splitters(register):
    register(
        "clinical-sentences",
        "verikit_medqa.splitter:ClinicalSentenceSplitter",
        description="one step per sentence or line of prose",
    )


@hookimpl
def register_datasets(register):
    register(
        "medqa-sample", "verikit_medqa.datasets:load_sample", description="20 hand-written questions (dev 6, test 14)"
    )
    register(
        "medqa", "verikit_medqa.datasets:load_medqa", description="MedQA JSONL from $VERIKIT_DATA/medqa/<split>.jsonl"
    )


@hookimpl
def register_domains(register):
    register(
        "medqa",
        Domain(
            name="medqa",
            answer_checker="medqa",
            step_splitter="clinical-sentences",
            datasets=["medqa-sample", "medqa"],
            prompt_template=PROMPT_TEMPLATE,
            description="medical multiple choice (MedQA/MedMCQA style)",
        ),
    )
