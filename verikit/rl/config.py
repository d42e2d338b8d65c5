"""The configurations of RL runs (light: importable by the CLI without loading torch)."""

from __future__ import annotations

import warnings
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StepPPOConfig(BaseModel):
    """Every setting of a step-PPO / ORM-PPO run; the paper's values where it gives them (kl_coef 0.04)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(default=1e-5, gt=0)
    kl_coef: float = Field(
        default=0.04, ge=0, description="Weight of the per-token KL to the reference (0.04: the paper)."
    )
    gamma: float = Field(default=1.0, ge=0, le=1)
    lam: float = Field(
        default=0.95, ge=0, le=1, description="GAE λ (1.0: undiscounted returns minus the critic's value)."
    )
    clip_range: float = Field(default=0.2, gt=0)
    value_clip: float = Field(default=0.2, gt=0)
    vf_coef: float = Field(default=0.1, ge=0)
    ppo_epochs: int = Field(default=2, ge=1)
    minibatch_size: int = Field(default=16, ge=1)
    prompts_per_step: int = Field(default=32, ge=1)
    temperature: float = Field(default=1.0, ge=0, description="Rollout sampling temperature.")
    max_new_tokens: int = Field(default=160, ge=1)
    max_grad_norm: float = Field(default=1.0, gt=0)
    whiten_advantages: bool = True
    critic_shares_trunk: bool = Field(
        default=True,
        description=(
            "False: the value head reads the policy's hidden states detached, so the critic's loss never moves the "
            "language model (its early, large errors otherwise pull the policy around before it has learned anything)."
        ),
    )
    critic_learning_rate: float | None = Field(
        default=None,
        gt=0,
        description=(
            "The value head's own learning rate (default: learning_rate). A linear head on a frozen-ish trunk needs a "
            "far larger step than the policy to become a useful baseline within a short run."
        ),
    )
    critic_warmup_steps: int = Field(
        default=0,
        ge=0,
        description=(
            "PPO steps at the start that train only the critic on fresh rollouts (the policy does not move): a critic "
            "that has learnt 'a slip has happened' gives the correct tokens after a slip an advantage near zero."
        ),
    )
    advantage_floor: float | None = Field(
        default=None,
        description=(
            "Advantages below it are raised to it after whitening (0: only better-than-expected tokens are reinforced; "
            "pushing down sampled wrong tokens spreads their probability over every other token)."
        ),
    )
    samples_per_prompt: int = Field(default=1, ge=1, description="Responses sampled per prompt at each step.")
    baseline: Literal["critic", "group"] = Field(
        default="critic",
        description=(
            "critic: GAE on the value head (the paper's PPO). group: no critic; each prompt's samples are its "
            "baseline, "
            "rewards normalised within the group (DeepSeekMath's process supervision). Needs samples_per_prompt >= 2."
        ),
    )
    process_credit: Literal["to-come", "own-step"] = Field(
        default="to-come",
        description=(
            "With baseline=group: to-come (a token gets its step's and every later step's normalised reward) or "
            "own-step (only its own step's). Identical for an outcome reward."
        ),
    )
    train_embeddings: bool = Field(default=True, description="False: token embeddings stay as the SFT model left them.")
    warmup_updates: int = Field(
        default=0, ge=0, description="Optimiser updates over which the learning rates rise from 0."
    )
    lr_decay: Literal["constant", "linear", "cosine"] = Field(
        default="constant",
        description=(
            "linear/cosine: the learning rates fall to min_learning_rate over the run's PPO steps (an SFT policy at "
            "the end "
            "of its decay is jolted by constant-rate noise; see docs/studies/ppo.md)."
        ),
    )
    min_learning_rate: float = Field(
        default=0.0,
        ge=0,
        description=(
            "The floor a linear/cosine decay ends at (the paper: 1e-8); the critic's rate falls in proportion."
        ),
    )
    lora_rank: int = Field(
        default=0,
        ge=0,
        description=(
            "0: every weight learns. r > 0: only LoRA adapters of rank r on all linear layers (peft; verikit[lora]), "
            "which usually want a learning rate ~10x full fine-tuning's."
        ),
    )
    lora_alpha: float = Field(default=16.0, gt=0)
    precision: Literal["auto", "fp32", "bf16-mixed"] = Field(
        default="auto",
        description=(
            "auto: bf16-mixed on a GPU with bf16, fp32 elsewhere. bf16-mixed: fp32 master weights, forward passes "
            "under "
            "bf16 autocast, the frozen reference held in bf16."
        ),
    )
    gradient_checkpointing: bool = Field(default=False, description="Recompute the policy's activations in backward.")
    seed: int = 0

    @model_validator(mode="after")
    def _group_needs_samples(self) -> StepPPOConfig:
        if self.baseline == "group" and self.samples_per_prompt < 2:
            raise ValueError("baseline='group' needs samples_per_prompt >= 2 (a group of one has no baseline)")
        if self.min_learning_rate >= self.learning_rate:
            raise ValueError(
                f"min_learning_rate {self.min_learning_rate} is not below learning_rate {self.learning_rate}"
            )
        return self


class GRPOSettings(BaseModel):
    """The settings of ``grpo-process`` that TRL's ``GRPOConfig`` takes (beyond steps, learning rate and seed)."""

    model_config = ConfigDict(extra="forbid")

    per_device_train_batch_size: int = Field(default=8, ge=1)
    num_generations: int = Field(default=4, ge=2, description="Samples per prompt: the group that is its own baseline.")
    beta: float = Field(default=0.04, ge=0, description="KL coefficient (the paper's 0.04).")
    logging_steps: int = Field(default=5, ge=1)
    checkpoints: int = Field(default=4, ge=1, description="Checkpoints over the run (at least every 10 steps).")


GRPORecipe = GRPOSettings  # the old name (it was never a recipe); kept for scripts, to be removed in 0.3


class RFTSettings(BaseModel):
    """Rejection-sampling fine-tuning: K samples per question, the distinct correct ones fine-tuned on (SFT)."""

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(
        default=8, ge=1, description="K: responses sampled per question (the paper: 8 per MetaMathQA question)."
    )
    datasets: list[str] | None = Field(
        default=None,
        description=(
            "Registered datasets whose train questions are sampled (the paper: metamathqa); default: the run's "
            "datasets."
        ),
    )
    problems: int | None = Field(
        default=None, ge=1, description="Questions per dataset (default: the run's train_problems)."
    )
    temperature: float = Field(default=1.0, ge=0, description="Sampling temperature (the paper is silent).")
    learning_rate: float = Field(
        default=2e-5,
        gt=0,
        description=(
            "The SFT learning rate of the fine-tuning (the paper uses its SFT rates: 5e-6 Mistral-7B, 2e-5 7B/13B)."
        ),
    )
    min_learning_rate: float = Field(default=0.0, ge=0, description="The cosine schedule's floor.")
    epochs: float = Field(default=3.0, gt=0, description="Passes over the kept samples (the paper's SFT: 3).")
    batch_size: int = Field(default=32, ge=1)
    max_length: int = Field(default=512, ge=8)


class RLSettings(BaseModel):
    """How an RL run trains (everything but the algorithm, the policy, the data and the reward model)."""

    model_config = ConfigDict(extra="forbid")

    train_problems: int = Field(default=2000, ge=1, description="Train problems per dataset.")
    eval_problems: int = Field(
        default=200,
        ge=0,
        description=(
            "Dev problems for the periodic greedy evaluation (0: none; the pipeline evaluates on its own datasets)."
        ),
    )
    prompt_template: str | None = Field(
        default=None, description="'{question}' → the policy's prompt (default: the domain's)."
    )
    steps: int = Field(default=50, ge=1, description="PPO steps (or GRPO steps).")
    eval_every: int = Field(default=10, ge=1)
    backend: str = Field(
        default="transformers",
        description="Registered completer backend that samples for RFT and "
        "evaluates (PPO samples with its own policy in this process).",
    )
    rft: RFTSettings = Field(default_factory=RFTSettings)
    ppo: StepPPOConfig = Field(default_factory=StepPPOConfig)
    grpo: GRPOSettings = Field(default_factory=GRPOSettings)

    @model_validator(mode="before")
    @classmethod
    def _old_rft_samples(cls, values: Any) -> Any:
        if isinstance(values, dict) and "rft_samples" in values:
            warnings.warn("RL setting rft_samples is now rft.samples", DeprecationWarning, stacklevel=2)
            values = dict(values)
            rft = dict(values.get("rft") or {})
            rft.setdefault("samples", values.pop("rft_samples"))
            values["rft"] = rft
        return values


class RLConfig(RLSettings):
    """One RL run: the algorithm, its policy, data and reward model, and how it trains (:class:`RLSettings`)."""

    algo: str = Field(
        description="Registered RL algorithm: step-ppo (PRM reward on each step's last token), orm-ppo, rft "
        "(rejection-sampling fine-tuning), grpo-process, or a plugin's."
    )
    policy: str = Field(description="The SFT policy to start from (folder or hub id).")
    datasets: list[str] = Field(
        description="Registered datasets with a train split (and dev, for evaluate-every), e.g. "
        "gsm8k and math-train; problems are drawn from all of them."
    )
    rm: str | None = Field(
        default=None, description="Reward model (a PRM for step-ppo/grpo-process, an ORM for orm-ppo)."
    )
    released_convention: bool = Field(
        default=False, description=("Read an rm without verikit_rm.json as a Math-Shepherd PRM (+/- at ки).")
    )

    @model_validator(mode="before")
    @classmethod
    def _one_dataset(cls, values: Any) -> Any:
        if isinstance(values, dict) and "dataset" in values:
            values = dict(values)
            single = values.pop("dataset")
            values.setdefault("datasets", [single] if isinstance(single, str) else single)
        if isinstance(values, dict) and isinstance(values.get("datasets"), str):
            values = {**values, "datasets": [values["datasets"]]}
        return values

    @model_validator(mode="after")
    def _registered_algorithm_and_reward_model(self) -> RLConfig:
        from verikit import components
        from verikit.errors import UnknownNameError

        try:
            algorithm = components.lookup("rl_algorithms", self.algo)
        except UnknownNameError as exc:
            raise ValueError(str(exc).strip("\"'")) from None
        if getattr(algorithm, "needs_reward_model", False) and self.rm is None:
            raise ValueError(f"{self.algo} needs a reward model (rm)")
        return self

    @property
    def dataset(self) -> str:
        """The first dataset (the run's only one, usually)."""
        return self.datasets[0]
