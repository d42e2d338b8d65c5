"""The configurations of RL runs (light: importable by the CLI without loading torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StepPPOConfig(BaseModel):
    """Every setting of a step-PPO / ORM-PPO run; the paper's values where it gives them (kl_coef 0.04)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(default=1e-5, gt=0)
    kl_coef: float = Field(default=0.04, ge=0, description="Weight of the per-token KL to the reference (0.04: the paper).")
    gamma: float = Field(default=1.0, ge=0, le=1)
    lam: float = Field(default=0.95, ge=0, le=1, description="GAE λ (1.0: undiscounted returns minus the critic's value).")
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
    critic_shares_trunk: bool = Field(default=True, description=(
        "False: the value head reads the policy's hidden states detached, so the critic's loss never moves the "
        "language model (its early, large errors otherwise pull the policy around before it has learned anything)."))
    critic_learning_rate: float | None = Field(default=None, gt=0, description=(
        "The value head's own learning rate (default: learning_rate). A linear head on a frozen-ish trunk needs a "
        "far larger step than the policy to become a useful baseline within a short run."))
    critic_warmup_steps: int = Field(default=0, ge=0, description=(
        "PPO steps at the start that train only the critic on fresh rollouts (the policy does not move): a critic "
        "that has learnt 'a slip has happened' gives the correct tokens after a slip an advantage near zero."))
    advantage_floor: float | None = Field(default=None, description=(
        "Advantages below it are raised to it after whitening (0: only better-than-expected tokens are reinforced; "
        "pushing down sampled wrong tokens spreads their probability over every other token)."))
    samples_per_prompt: int = Field(default=1, ge=1, description="Responses sampled per prompt at each step.")
    baseline: Literal["critic", "group"] = Field(default="critic", description=(
        "critic: GAE on the value head (the paper's PPO). group: no critic; each prompt's samples are its baseline, "
        "rewards normalised within the group (DeepSeekMath's process supervision). Needs samples_per_prompt >= 2."))
    process_credit: Literal["to-come", "own-step"] = Field(default="to-come", description=(
        "With baseline=group: to-come (a token gets its step's and every later step's normalised reward) or "
        "own-step (only its own step's). Identical for an outcome reward."))
    train_embeddings: bool = Field(default=True, description="False: token embeddings stay as the SFT model left them.")
    warmup_updates: int = Field(default=0, ge=0, description="Optimiser updates over which the learning rates rise from 0.")
    lr_decay: Literal["constant", "linear", "cosine"] = Field(default="constant", description=(
        "linear/cosine: the learning rates fall to 0 over the run's PPO steps (an SFT policy at the end of its "
        "decay is jolted by constant-rate noise; see docs/studies/ppo.md)."))
    lora_rank: int = Field(default=0, ge=0, description=(
        "0: every weight learns. r > 0: only LoRA adapters of rank r on all linear layers (peft; verikit[lora]), "
        "which usually want a learning rate ~10x full fine-tuning's."))
    lora_alpha: float = Field(default=16.0, gt=0)
    precision: Literal["auto", "fp32", "bf16-mixed"] = Field(default="auto", description=(
        "auto: bf16-mixed on a GPU with bf16, fp32 elsewhere. bf16-mixed: fp32 master weights, forward passes under "
        "bf16 autocast, the frozen reference held in bf16."))
    gradient_checkpointing: bool = Field(default=False, description="Recompute the policy's activations in backward.")
    seed: int = 0

    @model_validator(mode="after")
    def _group_needs_samples(self) -> StepPPOConfig:
        if self.baseline == "group" and self.samples_per_prompt < 2:
            raise ValueError("baseline='group' needs samples_per_prompt >= 2 (a group of one has no baseline)")
        return self


class GRPORecipe(BaseModel):
    """The settings of ``grpo-process`` that TRL's ``GRPOConfig`` takes (beyond steps, learning rate and seed)."""

    model_config = ConfigDict(extra="forbid")

    per_device_train_batch_size: int = Field(default=8, ge=1)
    num_generations: int = Field(default=4, ge=2, description="Samples per prompt: the group that is its own baseline.")
    beta: float = Field(default=0.04, ge=0, description="KL coefficient (the paper's 0.04).")
    logging_steps: int = Field(default=5, ge=1)
    checkpoints: int = Field(default=4, ge=1, description="Checkpoints over the run (at least every 10 steps).")


class RLConfig(BaseModel):
    """One RL run: the algorithm, its data and reward model, and the algorithm's own settings."""

    model_config = ConfigDict(extra="forbid")

    algo: Literal["step-ppo", "orm-ppo", "rft", "grpo-process"] = Field(description=(
        "step-ppo (PRM reward on each step's last token), orm-ppo, rft (rejection-sampling fine-tuning) or grpo-process."))
    policy: str = Field(description="The SFT policy to start from (folder or hub id).")
    dataset: str = Field(description="Registered dataset with train and dev splits, e.g. arith-easy or gsm8k.")
    rm: str | None = Field(default=None, description="Reward model (a PRM for step-ppo/grpo-process, an ORM for orm-ppo).")
    released_convention: bool = Field(default=False, description=(
        "Read an rm without verikit_rm.json as a Math-Shepherd PRM (+/- at ки)."))
    train_problems: int = Field(default=2000, ge=1)
    eval_problems: int = Field(default=200, ge=0, description=(
        "Dev problems for the periodic greedy evaluation (0: none; the pipeline evaluates on its own datasets)."))
    prompt_template: str | None = Field(default=None, description="'{question}' → the policy's prompt (default: the domain's).")
    steps: int = Field(default=50, ge=1, description="PPO steps (or GRPO steps).")
    eval_every: int = Field(default=10, ge=1)
    rft_samples: int = Field(default=4, ge=1, description="K: samples per problem for rft.")
    ppo: StepPPOConfig = Field(default_factory=StepPPOConfig)
    grpo: GRPORecipe = Field(default_factory=GRPORecipe)

    @model_validator(mode="after")
    def _reward_model_where_needed(self) -> RLConfig:
        if self.algo != "rft" and self.rm is None:
            raise ValueError(f"{self.algo} needs a reward model (rm)")
        return self
