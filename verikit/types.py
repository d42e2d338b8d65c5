"""Records that cross module boundaries: problems and step labels.

They are pydantic models so that every boundary (JSONL shards, CLI input, plugin output) is validated
with an error that names the field. Inside modules we pass them around as plain objects.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Problem(_Record):
    """One task with a checkable gold answer.

    ``gold_steps`` is filled by domains that know the reference step sequence (e.g. the synthetic
    arithmetic domain); it is what gold step labels are computed against.
    """

    id: str = Field(description="Stable identifier, unique within its dataset.")
    question: str = Field(description="The prompt text shown to the model.")
    gold_answer: str = Field(description="The reference final answer, in the domain's answer syntax.")
    domain: str = Field(description="Name of the domain (answer checker) that grades this problem.")
    gold_solution: str | None = Field(default=None, description="A reference worked solution, if any.")
    gold_steps: list[str] | None = Field(default=None, description="Reference steps, if the domain has them.")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", "question", "gold_answer", "domain")
    @classmethod
    def _not_blank(cls, value: str, info) -> str:
        if not value.strip():
            raise ValueError(f"{info.field_name} must not be empty")
        return value


class StepLabel(_Record):
    """The label of one step, as estimated from rollouts (or given by a gold labeller).

    ``hard`` is Math-Shepherd's Hard Estimation (any rollout reached the gold answer), ``soft`` the
    Soft Estimation (the fraction that did). ``n_rollouts == 0`` marks a label inferred without rollouts
    of its own (e.g. a later step's correct rollout witnesses every earlier step).
    """

    hard: bool
    soft: float = Field(ge=0.0, le=1.0)
    n_rollouts: int = Field(default=0, ge=0)
    n_correct: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _counts_consistent(self) -> "StepLabel":
        if self.n_correct > self.n_rollouts:
            raise ValueError(f"n_correct={self.n_correct} exceeds n_rollouts={self.n_rollouts}")
        return self
