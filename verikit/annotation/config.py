"""The configuration of an annotation run (stored in the run's manifest; a resumed run must match it).

:class:`AnnotationSettings` is *how* to annotate: one definition of each field, its default and its help, shared
by ``verikit annotate`` (every field is an option), a recipe's ``annotate`` section (which is these settings plus
the datasets) and the library. :class:`AnnotationConfig` adds *what* to annotate and with which models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from verikit import components
from verikit.errors import UnknownNameError


def registered_name(kind: str, value: str) -> str:
    """``value`` if the registry ``kind`` knows it; otherwise a ValueError with the registry's one-line error."""
    try:
        components.lookup(kind, value)
    except UnknownNameError as exc:
        raise ValueError(str(exc).strip("\"'")) from None
    return value


class AnnotationSettings(BaseModel):
    """How solutions are sampled and labelled (the paper: K = 15 solutions per problem, N = 8 rollouts, hard)."""

    model_config = ConfigDict(extra="forbid")

    samples_per_problem: int = Field(
        default=15, ge=1, description="K: solutions sampled per problem by each generator (the paper: 15)."
    )
    n_rollouts: int = Field(default=8, ge=1, description="N: rollouts per step (the paper: 8).")
    strategy: str = Field(
        default="naive",
        description="Registered annotation strategy: naive (the paper), early-exit, binary-search, or a plugin's.",
    )
    estimator: str = Field(
        default="hard",
        description="Registered estimator of a step's label from its rollouts: hard "
        "(the paper's choice for its reward models) or soft (naive measures every step with it).",
    )
    estimator_options: dict[str, Any] = Field(
        default_factory=dict, description=("Settings the estimator takes, e.g. {threshold: 0.5} for soft.")
    )
    round_size: int = Field(default=2, ge=1, description="Rollouts per round of an early-exit probe.")
    deduplicate: bool = Field(
        default=True,
        description=(
            "Solutions of a problem whose text an earlier one (of any generator) already has are stored as duplicates "
            "and not rolled out (the paper removes duplicate solutions before annotating)."
        ),
    )
    temperature: float = Field(
        default=1.0, ge=0.0, description="Sampling temperature of the generators' solutions (the paper is silent)."
    )
    rollout_temperature: float | None = Field(
        default=None,
        ge=0.0,
        description="Temperature of the completer's rollouts (default: `temperature`). Lower values make each "
        "rollout likelier to finish a sound prefix correctly, so fewer good steps get false `-` labels.",
    )
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=1024, ge=1, description="Longest solution or rollout, in tokens.")
    seed: int = 0
    chunk_size: int = Field(default=8, ge=1, description="Problems per work chunk (the unit of resumption).")
    batch_size: int = Field(default=512, ge=1, description="Sequences per generate call.")

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        return registered_name("strategies", value)

    @field_validator("estimator")
    @classmethod
    def _estimator(cls, value: str) -> str:
        return registered_name("estimators", value)

    @model_validator(mode="after")
    def _estimator_takes_its_options(self) -> AnnotationSettings:
        if self.estimator_options:
            try:
                components.estimator(self.estimator, **self.estimator_options)
            except TypeError as exc:
                raise ValueError(
                    f"estimator_options: estimator {self.estimator!r} does not take them ({exc})"
                ) from None
        return self


class AnnotationConfig(AnnotationSettings):
    """What to annotate, with which models, and how (:class:`AnnotationSettings`)."""

    dataset: str = Field(description="Registered dataset, e.g. arith-easy or gsm8k.")
    split: str = Field(default="train", description="Dataset split.")
    limit: int | None = Field(default=None, ge=1, description="Only the first N problems.")
    domain: str | None = Field(
        default=None, description="Domain (checker, splitter, prompt); default: the problems' own."
    )
    generator: list[str] = Field(
        description="Model(s) that sample the solutions (path or hub id); with several, each "
        "samples K per problem (the paper: two weak models)."
    )
    completer: str | None = Field(
        default=None, description="Model that rolls out from step prefixes; default: the first generator."
    )
    backend: str = Field(
        default="transformers", description="Registered completer backend: transformers, openai, vllm, or a plugin's."
    )
    device: str = "auto"
    prompt_template: str | None = Field(
        default=None, description="'{question}' → the generator's prompt (default: the domain's)."
    )
    backend_options: dict = Field(
        default_factory=dict,
        description=(
            "More settings for the completer backend where it takes them (dtype, tensor_parallel_size, "
            "gpu_memory_utilization …)."
        ),
    )

    @field_validator("generator", mode="before")
    @classmethod
    def _one_or_more(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("generator")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one generator")
        return value

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return registered_name("completers", value)

    @property
    def rollout_model(self) -> str:
        """The completer, or the first generator when none is set."""
        return self.completer or self.generator[0]
