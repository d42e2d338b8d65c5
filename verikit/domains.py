"""A domain bundles what a kind of task needs: its answer checker, its step splitter, its datasets."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Domain(BaseModel):
    """Names (registry keys) of the components that serve one domain, e.g. ``gsm8k`` or ``arith``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    answer_checker: str = Field(description="Name of the registered AnswerChecker.")
    step_splitter: str = Field(description="Name of the registered StepSplitter used for its solutions.")
    datasets: list[str] = Field(default_factory=list, description="Names of registered dataset loaders.")
    prompt_template: str = Field(
        default="{question}\n", description="How a problem is shown to the generator; the solution follows it."
    )
    gold_labeller: str | None = Field(
        default=None,
        description="'module:function' taking (problem, steps) and returning one exact bool per step, for "
        "domains whose step correctness is known (used to measure annotation and reward-model quality).",
    )
    description: str = ""

    def prompt(self, problem) -> str:
        return self.prompt_template.format(question=problem.question)

    def load_gold_labeller(self):
        """The gold step labeller, or ``None`` if the domain has none."""
        if self.gold_labeller is None:
            return None
        from verikit.registry import Entry

        return Entry(f"{self.name} gold labeller", self.gold_labeller, plugin=self.name).load()
