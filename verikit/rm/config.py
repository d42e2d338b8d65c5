"""The configuration of reward-model training (light: importable by the CLI without loading transformers).

:class:`PRMTrainingSettings` is how a tag-head reward model trains — one definition of each field, shared by
``verikit train-prm`` (every field is an option), a recipe's ``reward_models[*].training`` and the library;
:class:`PRMConfig` adds the base model and what is learnt. :class:`LikelihoodSettings` is the likelihood head's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PRMTrainingSettings(BaseModel):
    """How a tag-head PRM or ORM is trained (TRL's ``XConfig`` shape: one validated record, stored with the model)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(default=1e-4, gt=0, description="Peak learning rate (the paper: 1e-6 for every model).")
    min_learning_rate: float = Field(default=0.0, ge=0, description="The cosine schedule's floor.")
    epochs: float = Field(default=3.0, gt=0, description="Passes over the data (the paper: 1).")
    batch_size: int = Field(default=32, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    max_length: int = Field(default=1024, ge=8, description="Tokens per training text; tags beyond it are not trained "
                            "(the paper: 512).")
    warmup_ratio: float = Field(default=0.05, ge=0, le=1)
    weight_decay: float = Field(default=0.0, ge=0)
    lm_loss_weight: float = Field(default=0.0, ge=0, description=(
        "Keep the causal-LM loss on correct solutions at this weight (0: the paper's recipe)."))
    extra_layers: int = Field(default=0, ge=0, description=(
        "Decoder layers appended to the base, identity at the start (beyond the paper; see verikit.rm.surgery)."))
    untie_embeddings: bool = Field(default=False, description=(
        "An output layer of its own for a base that shares it with the input embeddings (beyond the paper)."))
    save_steps: int = Field(default=200, ge=1, description="Optimiser steps between resumable checkpoints.")
    precision: Literal["auto", "fp32", "bf16-mixed", "fp16-mixed", "bf16"] = Field(default="auto", description=(
        "auto: bf16-mixed on a GPU with bf16, fp32 elsewhere. *-mixed: fp32 master weights and optimiser states, "
        "forward and backward under autocast (whatever dtype the checkpoint was saved in). bf16: weights in bf16 "
        "(half the memory; updates smaller than bf16's resolution, as at lr 2e-6, are lost)."))
    gradient_checkpointing: bool = Field(default=False, description="Recompute activations in backward (7B+: memory for time).")
    lora_rank: int = Field(default=0, ge=0, description=(
        "0: every weight learns. r > 0: LoRA adapters of rank r on every linear layer (peft), merged into the saved model."))
    lora_alpha: float = Field(default=16.0, gt=0)
    lora_dropout: float = Field(default=0.0, ge=0, lt=1)
    save_dtype: Literal["float32", "bfloat16", "float16"] = Field(default="float32", description=(
        "dtype of the saved reward model (bfloat16 halves a 7B PRM's disk and scoring memory)."))
    seed: int = 0


class PRMConfig(PRMTrainingSettings):
    """A tag-head reward model to train: its base, what it learns, and how (:class:`PRMTrainingSettings`)."""

    base: str = Field(description="Causal LM to start from (folder or hub id), e.g. the generator.")
    objective: Literal["prm", "orm"] = Field(default="prm", description=(
        "prm: + / - at every step tag (Math-Shepherd); orm: final-answer correctness at the last tag."))
    labels: Literal["hard", "soft"] = Field(default="hard", description=(
        "hard: 0/1 targets; soft: rollout fractions as probabilities (PRM only)."))


class LikelihoodSettings(BaseModel):
    """How the likelihood PRM (a logistic head on the frozen base's per-step likelihoods; beyond the paper) is fitted."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=32, ge=1, description="Solutions per forward pass of the frozen base.")
    regularization: float = Field(default=1.0, gt=0, description="The logistic regression's C (inverse strength).")
