"""GRPO with process supervision (DeepSeekMath §4.1.3) on top of ``trl.GRPOTrainer``.

For a group of G responses to one prompt, every step reward of every response is normalised with the
mean and standard deviation of *all* step rewards in the group; a token's advantage is the sum of the
normalised rewards of the steps that end at or after it. :func:`process_advantages` is that computation;
:class:`ProcessGRPOTrainer` puts it into TRL (whose loss accepts per-token ``[B, T]`` advantages from
subclasses) with a verikit PRM supplying the step rewards.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence


def process_advantages(
    step_rewards: Sequence[Sequence[float]],
    step_ends: Sequence[Sequence[int]],
    lengths: Sequence[int],
    eps: float = 1e-4,
    credit: str = "to-come",
) -> list[list[float]]:
    """Per-token advantages for one group from its step rewards, each normalised by the group's mean and sd.

    ``credit="to-come"`` (DeepSeekMath): ``A_t = Σ_{steps j ending at index ≥ t} r̃_j``. ``credit="own-step"``:
    ``A_t = r̃_j`` of the first step ``j`` ending at or after ``t`` — a step is judged by its own reward only, so
    a good step before a slip is not blamed for the slip (tokens past the last step end take the last step's).
    With one reward per response (an outcome reward) the two are the same.
    """
    if credit not in ("to-come", "own-step"):
        raise ValueError(f"credit must be 'to-come' or 'own-step', got {credit!r}")
    flat = [r for rewards in step_rewards for r in rewards]
    if not flat:
        return [[0.0] * length for length in lengths]
    mean = sum(flat) / len(flat)
    std = (sum((r - mean) ** 2 for r in flat) / len(flat)) ** 0.5
    result = []
    for rewards, ends, length in zip(step_rewards, step_ends, lengths, strict=True):
        advantages = [0.0] * length
        normalised = [(reward - mean) / (std + eps) for reward in rewards]
        if credit == "to-come":
            for value, end in zip(normalised, ends, strict=True):
                for t in range(min(end, length - 1) + 1):
                    advantages[t] += value
        elif normalised:
            order = sorted(zip(ends, normalised))
            sorted_ends = [end for end, _ in order]
            for t in range(length):  # the first step ending at or after t (the last step past every end)
                advantages[t] = order[min(bisect_left(sorted_ends, t), len(order) - 1)][1]
        result.append(advantages)
    return result


def group_advantages_tensor(
    placements: Sequence[tuple[Sequence[int], Sequence[float]]],
    lengths: Sequence[int],
    group: int,
    width: int,
    credit: str = "to-come",
):
    """:func:`process_advantages` over a batch whose consecutive ``group`` rows share a prompt, as a
    ``[rows, width]`` tensor; ``placements[i]`` is row i's ``(step end positions, step rewards)``."""
    import torch

    advantages = torch.zeros(len(lengths), width)
    for start in range(0, len(lengths), group):
        rows = range(start, min(start + group, len(lengths)))
        block = process_advantages(
            [placements[i][1] for i in rows],
            [placements[i][0] for i in rows],
            [int(lengths[i]) for i in rows],
            credit=credit,
        )
        for i, row in zip(rows, block):
            advantages[i, : len(row)] = torch.tensor(row)
    return advantages
