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
    description: str = ""
