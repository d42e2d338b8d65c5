"""Step-level PPO (Math-Shepherd §3.3) and ORM-PPO, verikit's own: ``trl.PPOTrainer`` last shipped in TRL 1.12 (the
installed 1.16 has none; TRL's source tree keeps it under ``trl/experimental/ppo``, for reward models that score a
whole response, not a step). As there, one config (:class:`~verikit.rl.config.StepPPOConfig`) holds every setting.

The policy starts from the SFT generator; a frozen copy is the reference; a linear value head on the
policy's last hidden state is the critic (shared trunk, as in the paper's TRL-era setup). Each PPO step
samples one response per prompt, asks the reward function where rewards go — the PRM score of every step
on that step's last token (step-PPO), or one ORM score on the last token (ORM-PPO) — subtracts
``kl_coef`` × the per-token KL to the reference (0.04 as in the paper), computes GAE advantages and runs
the clipped objective for ``ppo_epochs`` over minibatches.

Departures from the paper, for the miniature: by default one response per prompt per step, a shared
critic trunk, and a response that ends with EOS gets the EOS token (so stopping is learned); the paper's
exact hyper-parameters (e.g. lr 4e-7/1e-7 on 7B) are settings of :class:`StepPPOConfig`. Log-probs are
those of the sampling temperature (logits / T), as the rollouts were drawn. Beyond the paper: an optional
critic warm-up (``critic_warmup_steps``, the policy frozen while the value head learns) with its own
learning rate, a detached critic (``critic_shares_trunk=False``), several samples per prompt
(``samples_per_prompt``) with the prompt's group as the baseline instead of a critic (``baseline="group"``,
DeepSeekMath's process supervision under this clipped objective; ``process_credit="own-step"`` credits a
token with its own step's reward only), frozen embeddings, a learning-rate warm-up, a learning-rate decay
to 0 over the run (``lr_decay``) and LoRA adapters instead of full fine-tuning (``lora_rank``, via peft).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from verikit.errors import VerikitError
from verikit.rl.config import StepPPOConfig
from verikit.rl.core import gae, kl_per_token, masked_mean, policy_loss, shaped_rewards, value_loss, whiten
from verikit.rl.grpo import group_advantages_tensor
from verikit.rl.rewards import place_rewards, reward_placements
from verikit.rm.data import padding_id, right_padded
from verikit.tokens import prompt_and_response_ids


def parse_overrides(text: str) -> dict:
    """``"key=value,key=value"`` → StepPPOConfig field overrides, validated (the command-line form of a config:
    ``--ppo baseline=group,samples_per_prompt=8``): :func:`verikit.overrides.overridden`'s syntax, values in YAML."""
    from verikit.overrides import overridden

    config = overridden(StepPPOConfig, {}, text)
    return {name: getattr(config, name) for name in config.model_fields_set}


@dataclass
class RolloutBatch:
    questions: list[str]
    prompts: list[str]
    responses: list[str]
    input_ids: torch.Tensor  # [B, L] right-padded prompt + response
    attention_mask: torch.Tensor  # [B, L]
    starts: list[int]  # index of each row's first response token
    response_mask: torch.Tensor  # [B, R] 1 on response tokens (aligned from each row's start)


class ValueHead(torch.nn.Module):
    def __init__(self, hidden_size: int):
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float()).squeeze(-1)


def _gather_rows(full: torch.Tensor, starts: Sequence[int], width: int) -> torch.Tensor:
    """``full[b, starts[b] + j]`` for j < width (zeros past the end): per-row response alignment."""
    index = (torch.tensor(starts, device=full.device).unsqueeze(1) + torch.arange(width, device=full.device)).clamp(
        max=full.shape[1] - 1
    )
    return full.gather(1, index)


def response_stats(
    model,
    value_head,
    batch: RolloutBatch,
    with_values: bool = True,
    detach_critic: bool = False,
    temperature: float = 1.0,
):
    """Log-probs of each response token (and the critic's values there), aligned to ``response_mask``.

    ``temperature``: the log-probs are of the distribution the rollouts were drawn from (logits / T), so the
    ratio and the gradient are those of the policy that acted, not of its T = 1 version.
    """
    output = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, output_hidden_states=with_values)
    logits = output.logits[:, :-1].float()
    logprobs = (
        torch.log_softmax(logits / temperature if temperature > 0 else logits, dim=-1)
        .gather(-1, batch.input_ids[:, 1:].unsqueeze(-1))
        .squeeze(-1)
    )
    width = batch.response_mask.shape[1]
    token_logprobs = _gather_rows(logprobs, [s - 1 for s in batch.starts], width) * batch.response_mask
    if not with_values:
        return token_logprobs, None
    hidden = output.hidden_states[-1]
    values = value_head(hidden.detach() if detach_critic else hidden)
    # the value of the state each response token is chosen in (the position before it), like its log-prob
    return token_logprobs, _gather_rows(values, [s - 1 for s in batch.starts], width) * batch.response_mask


class StepPPOTrainer:
    """PPO with rewards placed by ``reward_fn`` (see :mod:`verikit.rl.rewards`)."""

    def __init__(
        self, policy: str, reward_fn: Callable, domain, config: StepPPOConfig | None = None, device: str = "auto"
    ):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from verikit.completers.transformers import TransformersCompleter, pick_device

        self.config = config or StepPPOConfig()
        self.device = pick_device(device)
        torch.manual_seed(self.config.seed)
        from verikit.hf_training import resolve_precision
        from verikit.models import load_pretrained

        self.precision = resolve_precision(self.config.precision)
        self.tokenizer = load_pretrained(AutoTokenizer, policy)
        # fp32 master weights whatever the checkpoint's dtype: a bf16 policy would lose updates below bf16's resolution.
        # The frozen reference needs no master copy and is held in bf16 under bf16-mixed (half its memory).
        # Under LoRA the base is frozen and may stay half (peft keeps the adapters in fp32).
        policy_dtype = torch.bfloat16 if self.precision == "bf16-mixed" and self.config.lora_rank else torch.float32
        self.model = load_pretrained(AutoModelForCausalLM, policy, dtype=policy_dtype).to(self.device)
        reference_dtype = torch.bfloat16 if self.precision == "bf16-mixed" else torch.float32
        self.reference = load_pretrained(AutoModelForCausalLM, policy, dtype=reference_dtype).to(self.device).eval()
        if self.config.gradient_checkpointing:
            if hasattr(self.model, "activation_checkpointing_enable"):  # the name since transformers 5.x
                self.model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        for parameter in self.reference.parameters():
            parameter.requires_grad_(False)
        self.value_head = ValueHead(self.model.config.hidden_size).to(self.device)
        self.adapters = None
        if self.config.lora_rank:
            self.adapters = _with_lora(self.model, self.config.lora_rank, self.config.lora_alpha)
            # the LoRA layers live inside the same module tree: sampling, scoring and the critic keep using
            # self.model (the peft wrapper is kept only to read and write the adapters)
            self.model = self.adapters.get_base_model()
        elif not self.config.train_embeddings:
            for module in (self.model.get_input_embeddings(), self.model.get_output_embeddings()):
                for parameter in module.parameters():
                    parameter.requires_grad_(False)
        self.optimizer = torch.optim.AdamW(
            [
                {"params": [p for p in self.model.parameters() if p.requires_grad], "lr": self.config.learning_rate},
                {
                    "params": list(self.value_head.parameters()),
                    "lr": self.config.critic_learning_rate or self.config.learning_rate,
                },
            ]
        )
        self._base_learning_rates = [group["lr"] for group in self.optimizer.param_groups]
        self.sampler = TransformersCompleter(
            self.model,
            tokenizer=self.tokenizer,
            device=self.device,
            max_new_tokens=self.config.max_new_tokens,
            cache_implementation=None,
        )
        self.reward_fn, self.domain = reward_fn, domain
        self.steps_done = 0
        self.total_steps: int | None = None  # set by train(); the horizon of lr_decay

    def _response_stats(self, model, *args, **kwargs):
        """:func:`response_stats` under autocast when the precision is mixed (the weights stay fp32)."""
        if self.precision == "bf16-mixed":
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                return response_stats(model, *args, **kwargs)
        return response_stats(model, *args, **kwargs)

    # -- data ------------------------------------------------------------------------------------
    def make_batch(
        self,
        questions: Sequence[str],
        prompts: Sequence[str],
        responses: Sequence[str],
        finished: Sequence[bool] | None = None,
    ) -> RolloutBatch:
        rows, starts, lengths = [], [], []
        for index, (prompt, response) in enumerate(zip(prompts, responses)):
            prompt_ids, response_ids = prompt_and_response_ids(self.tokenizer, prompt, response)
            if finished is not None and finished[index] and self.tokenizer.eos_token_id is not None:
                response_ids = response_ids + [self.tokenizer.eos_token_id]
            rows.append(prompt_ids + response_ids)
            starts.append(len(prompt_ids))
            lengths.append(len(response_ids))
        input_ids, attention = (t.to(self.device) for t in right_padded(rows, padding_id(self.tokenizer)))
        response_width = max(1, max(lengths))
        response_mask = torch.tensor([[1.0] * n + [0.0] * (response_width - n) for n in lengths], device=self.device)
        return RolloutBatch(
            list(questions), list(prompts), list(responses), input_ids, attention, starts, response_mask
        )

    def rollout(self, problems: Sequence) -> RolloutBatch:
        """``samples_per_prompt`` responses to each problem; a prompt's samples are consecutive rows."""
        k = self.config.samples_per_prompt
        prompts = [self.domain.prompt(p) for p in problems]
        sampled = self.sampler.complete(
            prompts,
            n=k,
            temperature=self.config.temperature,
            max_new_tokens=self.config.max_new_tokens,
            seed=self.config.seed * 100_003 + self.steps_done,
        )
        if sampled.token_counts is None:
            raise VerikitError(f"PPO needs token counts from its sampler; {type(self.sampler).__name__} returned none")
        finished = [c < self.config.max_new_tokens for counts in sampled.token_counts for c in counts]
        self.model.train()
        return self.make_batch(
            [p.question for p in problems for _ in range(k)],
            [p for p in prompts for _ in range(k)],
            [r for texts in sampled for r in texts],
            finished,
        )

    def reward_placements(self, batch: RolloutBatch) -> list[tuple[list[int], list[float]]]:
        """Each row's ``(positions, scores)`` from ``reward_fn``, positions resolved within the row's response."""
        return reward_placements(
            self.reward_fn,
            batch.questions,
            batch.prompts,
            batch.responses,
            self.tokenizer,
            batch.response_mask.sum(dim=1).long().tolist(),
        )

    def placed_rewards(self, batch: RolloutBatch, placements) -> torch.Tensor:
        width = batch.response_mask.shape[1]
        rows = [place_rewards(width, positions, scores) for positions, scores in placements]
        return torch.tensor(rows, device=self.device)

    def group_advantages(self, batch: RolloutBatch, placements, kl: torch.Tensor) -> torch.Tensor:
        """The ``baseline="group"`` advantages: group-normalised rewards credited per ``process_credit``, minus the
        KL to come."""
        mask = batch.response_mask
        advantages = group_advantages_tensor(
            placements,
            mask.sum(dim=1).long().tolist(),
            self.config.samples_per_prompt,
            mask.shape[1],
            credit=self.config.process_credit,
        ).to(mask.device)
        kl_to_come = torch.flip(torch.cumsum(torch.flip(kl * mask, [1]), 1), [1])
        return (advantages - self.config.kl_coef * kl_to_come) * mask

    # -- one PPO step ------------------------------------------------------------------------------
    def losses(self, batch: RolloutBatch, old_logprobs, old_values, advantages, returns) -> dict:
        with_critic = self.config.baseline == "critic"
        logprobs, values = self._response_stats(
            self.model,
            self.value_head,
            batch,
            with_values=with_critic,
            detach_critic=not self.config.critic_shares_trunk,
            temperature=self.config.temperature,
        )
        mask = batch.response_mask
        pg = policy_loss(logprobs, old_logprobs, advantages, mask, self.config.clip_range)
        if not with_critic:
            return {"loss": pg, "policy_loss": pg}
        vl = value_loss(values, old_values, returns, mask, self.config.value_clip)
        return {"loss": pg + self.config.vf_coef * vl, "policy_loss": pg, "value_loss": vl}

    def prepare(self, batch: RolloutBatch) -> dict:
        """Old log-probs and values, reference log-probs, rewards, advantages: everything fixed for this step."""
        temperature = self.config.temperature
        with torch.no_grad():
            with_critic = self.config.baseline == "critic"
            old_logprobs, old_values = self._response_stats(
                self.model, self.value_head, batch, with_values=with_critic, temperature=temperature
            )
            ref_logprobs, _ = self._response_stats(
                self.reference, None, batch, with_values=False, temperature=temperature
            )
            placements = self.reward_placements(batch)
            placed = self.placed_rewards(batch, placements)
            kl = kl_per_token(old_logprobs, ref_logprobs)
            if not with_critic:
                advantages = self.group_advantages(batch, placements, kl)
                old_values = returns = torch.zeros_like(advantages)  # no critic: nothing to fit
            else:
                rewards = shaped_rewards(placed, kl, self.config.kl_coef, batch.response_mask)
                advantages, returns = gae(rewards, old_values, batch.response_mask, self.config.gamma, self.config.lam)
                if self.config.whiten_advantages:
                    advantages = whiten(advantages, batch.response_mask)
            if self.config.advantage_floor is not None:
                advantages = advantages.clamp(min=self.config.advantage_floor) * batch.response_mask
        return {
            "old_logprobs": old_logprobs,
            "old_values": old_values,
            "advantages": advantages,
            "returns": returns,
            "rm_reward": (placed.sum(dim=1)).mean().item(),
            "kl": masked_mean(kl, batch.response_mask).item(),
        }

    def step(self, batch: RolloutBatch) -> dict:
        fixed = self.prepare(batch)
        stats = {"rm_reward": fixed["rm_reward"], "kl": fixed["kl"]}
        if self.steps_done < self.config.critic_warmup_steps:
            return stats | self.critic_step(batch, fixed)
        for rows in self._minibatches(len(batch.prompts)):
            sub = _select(batch, rows)
            losses = self.losses(
                sub, *(fixed[k][rows] for k in ("old_logprobs", "old_values", "advantages", "returns"))
            )
            self.optimizer.zero_grad()
            losses["loss"].backward()
            torch.nn.utils.clip_grad_norm_(
                list(self.model.parameters()) + list(self.value_head.parameters()), self.config.max_grad_norm
            )
            self._set_learning_rates()
            self.optimizer.step()
            stats.update({k: v.item() for k, v in losses.items()})
        self.steps_done += 1
        return stats

    def learning_rate_factor(self) -> float:
        """The multiplier on every base learning rate for the next update: the warm-up (over ``warmup_updates``
        optimiser updates, counted by Adam itself so a resumed run goes on where it was) times the decay (over
        the PPO steps of the run, when ``train`` has set its length)."""
        done = int(next(iter(self.optimizer.state.values()), {}).get("step", 0))
        factor = min(1.0, (done + 1) / self.config.warmup_updates) if self.config.warmup_updates else 1.0
        if self.config.lr_decay != "constant" and self.total_steps:
            progress = min(1.0, self.steps_done / self.total_steps)
            decay = 1.0 - progress if self.config.lr_decay == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))
            floor = self.config.min_learning_rate / self.config.learning_rate  # the policy's rate ends at the floor
            factor *= floor + (1.0 - floor) * decay
        return factor

    def _set_learning_rates(self) -> None:
        factor = self.learning_rate_factor()
        for group, base in zip(self.optimizer.param_groups, self._base_learning_rates):
            group["lr"] = base * factor

    def _minibatches(self, size: int):
        """Row indices of each minibatch: ``ppo_epochs`` passes, each over a fresh random order."""
        for _ in range(self.config.ppo_epochs):
            order = torch.randperm(size).tolist()
            for start in range(0, size, self.config.minibatch_size):
                yield order[start : start + self.config.minibatch_size]

    def critic_step(self, batch: RolloutBatch, fixed: dict) -> dict:
        """Value-head updates only (critic warm-up): the policy's weights and its optimizer state stay as they are."""
        losses = []
        for rows in self._minibatches(len(batch.prompts)):
            sub = _select(batch, rows)
            with torch.no_grad():
                output = self.model(
                    input_ids=sub.input_ids, attention_mask=sub.attention_mask, output_hidden_states=True
                )
            values = (
                _gather_rows(
                    self.value_head(output.hidden_states[-1]), [s - 1 for s in sub.starts], sub.response_mask.shape[1]
                )
                * sub.response_mask
            )
            loss = value_loss(
                values, fixed["old_values"][rows], fixed["returns"][rows], sub.response_mask, float("inf")
            )
            self.optimizer.zero_grad()  # grads of None: AdamW leaves those parameters (and their state) alone
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(self.value_head.parameters()), self.config.max_grad_norm)
            self.optimizer.step()
            losses.append(loss.item())
        self.steps_done += 1
        return {"value_loss": sum(losses) / len(losses), "critic_warmup": True}

    # -- the loop ----------------------------------------------------------------------------------
    def train(
        self,
        problems: Sequence,
        steps: int,
        out: str | Path | None = None,
        evaluate: Callable | None = None,
        eval_every: int = 0,
        progress: bool = True,
    ) -> list[dict]:
        from tqdm.auto import tqdm

        history = []
        self.total_steps = steps
        if out is not None:
            self.load_checkpoint(out)
        bar = tqdm(total=steps, initial=self.steps_done, desc="ppo", disable=not progress)
        while self.steps_done < steps:
            start = (self.steps_done * self.config.prompts_per_step) % max(1, len(problems))
            chosen = [problems[(start + i) % len(problems)] for i in range(self.config.prompts_per_step)]
            started = time.perf_counter()
            stats = self.step(self.rollout(chosen))
            stats.update(step=self.steps_done, seconds=round(time.perf_counter() - started, 2))
            if evaluate is not None and eval_every and self.steps_done % eval_every == 0:
                stats["eval"] = evaluate(self.sampler)
            history.append(stats)
            bar.set_postfix(reward=f"{stats['rm_reward']:.3f}", kl=f"{stats['kl']:.4f}")
            bar.update(1)
            if out is not None:
                self.save_checkpoint(out, history)
        bar.close()
        return history

    def save_checkpoint(self, out: str | Path, history: list[dict] | None = None) -> None:
        out = Path(out)
        partial = out.with_name(out.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        self.merged_policy().save_pretrained(partial)  # a plain causal LM: loads without peft
        self.tokenizer.save_pretrained(partial)
        state = {
            "value_head": self.value_head.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "steps_done": self.steps_done,
            "rng": torch.get_rng_state(),
        }
        if self.adapters is not None:
            from peft import get_peft_model_state_dict

            state["adapters"] = get_peft_model_state_dict(self.adapters)
        torch.save(state, partial / "ppo_state.pt")
        (partial / "ppo_config.json").write_text(
            json.dumps({"config": self.config.model_dump(), "history": history or []}, indent=2)
        )
        if out.exists():
            import shutil

            shutil.rmtree(out)
        partial.rename(out)  # a killed run leaves the previous checkpoint whole

    def merged_policy(self):
        """The policy as a plain causal LM: ``self.model`` itself, or with LoRA a copy with the adapters merged."""
        if self.adapters is None:
            return self.model
        import copy

        return copy.deepcopy(self.adapters).merge_and_unload()

    def load_checkpoint(self, out: str | Path) -> bool:
        from transformers import AutoModelForCausalLM

        state_path = Path(out) / "ppo_state.pt"
        if not state_path.exists():
            return False
        state = load_state(state_path)
        if self.adapters is not None:
            from peft import set_peft_model_state_dict

            set_peft_model_state_dict(self.adapters, state["adapters"])
        else:
            loaded = AutoModelForCausalLM.from_pretrained(out).to(self.device)
            self.model.load_state_dict(loaded.state_dict())
        self.value_head.load_state_dict(state["value_head"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps_done = state["steps_done"]
        torch.set_rng_state(state["rng"])
        return True


def load_state(path: str | Path) -> dict:
    """A state file saved by :meth:`StepPPOTrainer.save_checkpoint`, read with ``weights_only=True``: tensors,
    numbers and containers only, so a pickle planted in an output folder cannot run code."""
    try:
        return torch.load(path, weights_only=True)
    except Exception as exc:
        from verikit.errors import DataError

        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise DataError(
            f"not a PPO state verikit can load safely ({type(exc).__name__}: {reason}); delete it to start afresh",
            path=path,
        ) from None


def _with_lora(model, rank: int, alpha: float):
    """``model`` with LoRA adapters of ``rank`` on every linear layer but the output head (peft), the rest frozen."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise ImportError("StepPPOConfig.lora_rank needs peft: pip install peft") from exc
    return get_peft_model(model, LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules="all-linear"))


def _select(batch: RolloutBatch, rows: list[int]) -> RolloutBatch:
    return RolloutBatch(
        [batch.questions[i] for i in rows],
        [batch.prompts[i] for i in rows],
        [batch.responses[i] for i in rows],
        batch.input_ids[rows],
        batch.attention_mask[rows],
        [batch.starts[i] for i in rows],
        batch.response_mask[rows],
    )
