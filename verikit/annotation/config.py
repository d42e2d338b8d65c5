"""The configuration of an annotation run (stored in the run's manifest; a resumed run must match it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from verikit import components
from verikit.errors import UnknownNameError


class AnnotationConfig(BaseModel):
    """What to annotate, with which models, and how many rollouts (the paper: K=15 solutions, N=8, hard)."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(description="Registered dataset, e.g. arith-easy or gsm8k.")
    split: str = Field(default="train", description="Dataset split.")
    limit: int | None = Field(default=None, ge=1, description="Only the first N problems.")
    domain: str | None = Field(default=None, description="Domain (checker, splitter, prompt); default: the problems' own.")
    generator: str = Field(description="Model that samples the solutions (path or hub id).")
    completer: str | None = Field(default=None, description="Model that rolls out from step prefixes; default: the generator.")
    backend: str = Field(default="transformers", description="Registered completer backend: transformers, openai, vllm, "
                         "or a plugin's.")
    samples_per_problem: int = Field(default=4, ge=1, description="K: solutions sampled per problem.")
    n_rollouts: int = Field(default=8, ge=1, description="N: rollouts per step.")
    strategy: str = Field(default="naive", description="Registered annotation strategy: naive (the paper), early-exit, "
                          "binary-search, or a plugin's.")
    estimator: str = Field(default="hard", description="Registered estimator of a step's label from its rollouts: hard "
                           "or soft (naive measures every step with it).")
    round_size: int = Field(default=2, ge=1, description="Rollouts per round of an early-exit probe.")
    temperature: float = Field(default=1.0, ge=0.0, description="Sampling temperature of the generator's solutions.")
    rollout_temperature: float | None = Field(
        default=None, ge=0.0,
        description="Temperature of the completer's rollouts (default: `temperature`). Lower values make each "
                    "rollout likelier to finish a sound prefix correctly, so fewer good steps get false `-` labels.")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_new_tokens: int = Field(default=256, ge=1)
    seed: int = 0
    chunk_size: int = Field(default=8, ge=1, description="Problems per work chunk (the unit of resumption).")
    batch_size: int = Field(default=512, ge=1, description="Sequences per generate call.")
    device: str = "auto"
    prompt_template: str | None = Field(default=None, description="'{question}' → the generator's prompt (default: the domain's).")
    backend_options: dict = Field(default_factory=dict, description=(
        "More settings for the completer backend where it takes them (dtype, tensor_parallel_size, gpu_memory_utilization …)."))

    @field_validator("strategy", "estimator", "backend")
    @classmethod
    def _registered(cls, value: str, info) -> str:
        """A name the registry knows; otherwise the registry's one-line error, which lists the valid names."""
        kind = {"strategy": "strategies", "estimator": "estimators", "backend": "completers"}[info.field_name]
        try:
            components.lookup(kind, value)
        except UnknownNameError as exc:
            raise ValueError(str(exc).strip("\"'")) from None
        return value
