"""The arithmetic of PPO for language models, on ``[batch, response length]`` tensors with a 0/1 mask.

Written out (not taken from a library) because TRL no longer ships PPO; each function is small enough to
check by hand, and the tests do.
"""

from __future__ import annotations

import torch


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum() / mask.sum().clamp(min=1)


def whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    """Zero mean (optionally) and unit variance over the masked entries."""
    mean = masked_mean(values, mask)
    variance = masked_mean((values - mean) ** 2, mask)
    whitened = (values - mean) * torch.rsqrt(variance + 1e-8)
    return (whitened if shift_mean else whitened + mean) * mask


def response_logprobs(logits: torch.Tensor, input_ids: torch.Tensor, response_start: int) -> torch.Tensor:
    """Log-probability of each response token (positions ``response_start:``) under ``logits`` of the full sequence."""
    logprobs = torch.log_softmax(logits[:, response_start - 1 : -1].float(), dim=-1)
    return logprobs.gather(-1, input_ids[:, response_start:].unsqueeze(-1)).squeeze(-1)


def kl_per_token(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """The sampled-token KL estimate ``log π(a|s) − log π_ref(a|s)`` (zero when the policy is the reference)."""
    return logprobs - ref_logprobs


def shaped_rewards(placed: torch.Tensor, kl: torch.Tensor, kl_coef: float, mask: torch.Tensor) -> torch.Tensor:
    """Per-token reward: the reward model's scores where they were placed, minus ``kl_coef`` × KL everywhere."""
    return (placed - kl_coef * kl) * mask


def gae(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0, lam: float = 0.95
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over response tokens; returns ``(advantages, returns)``.

    ``δ_t = r_t + γ V_{t+1} − V_t`` (``V`` after the last response token is 0) and ``A_t = δ_t + γλ A_{t+1}``;
    ``returns = A + V``. Masked positions (padding after a response) get 0.
    """
    rewards, values = rewards * mask, values * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros(rewards.shape[0], dtype=rewards.dtype, device=rewards.device)
    for t in reversed(range(rewards.shape[1])):
        next_value = values[:, t + 1] if t + 1 < rewards.shape[1] else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        advantages[:, t] = running
    return advantages, (advantages + values) * mask


def policy_loss(
    logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor, clip: float = 0.2
) -> torch.Tensor:
    """The clipped surrogate ``−E[min(ρA, clip(ρ, 1±ε)A)]`` over masked tokens."""
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1 - clip, 1 + clip) * advantages
    return -masked_mean(torch.minimum(unclipped, clipped), mask)


def value_loss(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor, clip: float = 0.2
) -> torch.Tensor:
    """The clipped value loss ``½ E[max((V−R)², (clip(V, V_old±ε)−R)²)]``."""
    clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    return 0.5 * masked_mean(torch.maximum((values - returns) ** 2, (clipped - returns) ** 2), mask)
