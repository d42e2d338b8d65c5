"""The configuration of reward-model training (light: importable by the CLI without loading transformers).

:class:`PRMTrainingSettings` is how a tag-head reward model trains — one definition of each field, shared by
``verikit train-prm`` (every field is an option), a recipe's ``reward_models[*].training`` and the library;
:class:`PRMConfig` adds the base model and what is learnt. :class:`LikelihoodSettings` is the likelihood head's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from verikit.hf_training import TrainerSettings


class PRMTrainingSettings(TrainerSettings):
    """How a tag-head PRM or ORM is trained (TRL's ``XConfig`` shape: one validated record, stored with the model);
    the fields every trainer shares are :class:`~verikit.hf_training.TrainerSettings`', with a reward model's
    defaults here."""

    learning_rate: float = Field(
        default=1e-4, gt=0, description="Peak learning rate (the paper: 1e-6 for every model)."
    )
    epochs: float = Field(default=3.0, gt=0, description="Passes over the data (the paper: 1).")
    batch_size: int = Field(default=32, ge=1)
    max_length: int = Field(
        default=1024, ge=8, description=("Tokens per training text; tags beyond it are not trained (the paper: 512).")
    )
    warmup_ratio: float = Field(default=0.05, ge=0, le=1)
    save_steps: int = Field(default=200, ge=1, description="Optimiser steps between checkpoints.")
    lm_loss_weight: float = Field(
        default=0.0,
        ge=0,
        description=("Keep the causal-LM loss on correct solutions at this weight (0: the paper's recipe)."),
    )
    extra_layers: int = Field(
        default=0,
        ge=0,
        description=(
            "Decoder layers appended to the base, identity at the start (beyond the paper; see verikit.rm.surgery)."
        ),
    )
    untie_embeddings: bool = Field(
        default=False,
        description=(
            "An output layer of its own for a base that shares it with the input embeddings (beyond the paper)."
        ),
    )
    labels_after_first_error: Literal["keep", "drop"] = Field(
        default="keep",
        description=(
            "drop: the tags after a solution's first bad step (target below 0.5) carry no loss (beyond the paper's "
            "loss, not its labels: hard estimation labels nearly every later step '-', whatever the step, and min "
            "aggregation reads only the first low step; PRM only)."
        ),
    )


class PRMConfig(PRMTrainingSettings):
    """A tag-head reward model to train: its base, what it learns, and how (:class:`PRMTrainingSettings`)."""

    base: str = Field(description="Causal LM to start from (folder or hub id), e.g. the generator.")
    objective: Literal["prm", "orm"] = Field(
        default="prm",
        description=("prm: + / - at every step tag (Math-Shepherd); orm: final-answer correctness at the last tag."),
    )
    labels: Literal["hard", "soft"] = Field(
        default="hard", description=("hard: 0/1 targets; soft: rollout fractions as probabilities (PRM only).")
    )

    @model_validator(mode="after")
    def _one_label_has_no_tail(self):
        if self.objective == "orm" and self.labels_after_first_error == "drop":
            raise ValueError("labels_after_first_error='drop' is for a PRM: an ORM has one label per solution")
        return self


class LikelihoodSettings(BaseModel):
    """How the likelihood PRM (a logistic head on the frozen base's per-step likelihoods; beyond the paper) is
    fitted."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=32, ge=1, description="Solutions per forward pass of the frozen base.")
    regularization: float = Field(default=1.0, gt=0, description="The logistic regression's C (inverse strength).")
