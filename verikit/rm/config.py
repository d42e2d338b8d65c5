"""The configuration of reward-model training (light: importable by the CLI without loading transformers)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PRMConfig(BaseModel):
    """How a reward model is trained (TRL's ``XConfig`` shape: one validated record, stored with the model)."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(description="Causal LM to start from (folder or hub id), e.g. the generator.")
    objective: Literal["prm", "orm"] = Field(default="prm", description=(
        "prm: + / - at every step tag (Math-Shepherd); orm: final-answer correctness at the last tag."))
    labels: Literal["hard", "soft"] = Field(default="hard", description=(
        "hard: 0/1 targets; soft: rollout fractions as probabilities (PRM only)."))
    learning_rate: float = Field(default=1e-4, gt=0)
    epochs: float = Field(default=3.0, gt=0)
    batch_size: int = Field(default=32, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    max_length: int = Field(default=1024, ge=8, description="Tokens per training text; tags beyond it are not trained.")
    warmup_ratio: float = Field(default=0.05, ge=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    lm_loss_weight: float = Field(default=0.0, ge=0, description=(
        "Keep the causal-LM loss on correct solutions at this weight (0: the paper's recipe)."))
    extra_layers: int = Field(default=0, ge=0, description=(
        "Decoder layers appended to the base, identity at the start (beyond the paper; see verikit.rm.surgery)."))
    untie_embeddings: bool = Field(default=False, description=(
        "An output layer of its own for a base that shares it with the input embeddings (beyond the paper)."))
    save_steps: int = Field(default=200, ge=1, description="Optimiser steps between resumable checkpoints.")
    seed: int = 0
