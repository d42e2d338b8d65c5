"""Where process and outcome rewards land in a response's tokens.

Math-Shepherd's step-by-step PPO gives each step its PRM score at the step's *last token*; an ORM gives
one score at the response's last token. Steps are the domain splitter's; a step's last token is the token
whose character span holds the step's last character (fast tokenizers report offsets), so the placement
is right whatever the tokenizer merges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from verikit.errors import VerikitError
from verikit.format import readable_steps


def step_end_characters(response: str, steps: Sequence[str], splitter) -> list[int]:
    """Offset (in ``response``) of the last character of each step, checked against the splitter's own join."""
    ends, consumed = [], 0
    for index in range(len(steps)):
        prefix = splitter.join(list(steps[: index + 1]))
        if not response.startswith(prefix):
            raise VerikitError(f"step {index + 1} does not continue the response as the splitter joins it")
        consumed = len(prefix)
        ends.append(consumed - 1)
    return ends


def step_end_tokens(tokenizer, prompt: str, response: str, steps: Sequence[str], splitter) -> list[int]:
    """Index (within the response's tokens, as tokenised after ``prompt``) of each step's last token."""
    encoded = tokenizer(prompt + response, return_offsets_mapping=True, add_special_tokens=False)
    prompt_tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    offsets = encoded["offset_mapping"][prompt_tokens:]
    positions = []
    for char in step_end_characters(response, steps, splitter):
        if char < 0:  # an empty first step (a response that opens with the separator) has no token: its reward
            positions.append(0)  # goes on the response's first token
            continue
        absolute = len(prompt) + char
        token = next((i for i, (start, end) in enumerate(offsets) if start <= absolute < end), None)
        if token is None:
            raise VerikitError(f"no response token covers character {char} (the end of a step)")
        positions.append(token)
    return positions


def score_readable(
    scorer, splitter, questions: Sequence[str], responses: Sequence[str]
) -> tuple[list, dict[int, list[float]]]:
    """Each response's steps (None where the PRM cannot read it) and, by response index, the PRM's step scores
    of the readable ones — one scoring call for the batch."""
    steps = [readable_steps(splitter, r) for r in responses]
    readable = [i for i, s in enumerate(steps) if s]
    scores = scorer.score([questions[i] for i in readable], [steps[i] for i in readable]) if readable else []
    return steps, dict(zip(readable, scores))


def resolve_positions(positions: Sequence[int], length: int) -> list[int]:
    """A reward function's token positions within a response of ``length`` tokens: -1 is the last token,
    and a position past the end lands on the last token."""
    return [length - 1 if p < 0 else min(p, length - 1) for p in positions]


def reward_placements(
    reward_fn: Callable,
    questions: Sequence[str],
    prompts: Sequence[str],
    responses: Sequence[str],
    tokenizer,
    lengths: Sequence[int],
) -> list[tuple[list[int], list[float]]]:
    """Each response's ``(positions, scores)`` from ``reward_fn``, positions resolved within its ``lengths[i]``
    tokens."""
    return [
        (resolve_positions(positions, length), list(scores))
        for (positions, scores), length in zip(
            reward_fn(questions, prompts, responses, tokenizer), lengths, strict=True
        )
    ]


def place_rewards(length: int, positions: Sequence[int], scores: Sequence[float]) -> list[float]:
    """A per-token reward list of ``length`` with ``scores[k]`` at ``positions[k]`` (later steps add up if they share a
    token)."""
    rewards = [0.0] * length
    for position, score in zip(positions, scores, strict=True):
        if 0 <= position < length:
            rewards[position] += float(score)
    return rewards


def prm_step_rewards(scorer, splitter) -> Callable:
    """Reward function for step-level PPO: ``(questions, prompts, responses, tokenizer) -> [(positions, scores)]``.

    A response the PRM cannot read (no steps, or the step tag in its text) gets 0 at its last token.
    """

    def reward(questions, prompts, responses, tokenizer):
        steps, by_index = score_readable(scorer, splitter, questions, responses)
        out = []
        for i, (prompt, response) in enumerate(zip(prompts, responses)):
            if i in by_index:
                out.append((step_end_tokens(tokenizer, prompt, response, steps[i], splitter), by_index[i]))
            else:
                out.append(([-1], [0.0]))
        return out

    return reward


def orm_final_reward(scorer, splitter) -> Callable:
    """Reward function for ORM-PPO: one score (the ORM's, at the last tag) on the response's last token."""

    def reward(questions, prompts, responses, tokenizer):
        _, by_index = score_readable(scorer, splitter, questions, responses)
        return [([-1], [by_index[i][-1] if i in by_index else 0.0]) for i in range(len(responses))]  # -1: last token

    return reward


def coin_flip_reward(seed: int = 0) -> Callable:
    """A reward that carries no information: 0 or 1 by a seeded coin, on each response's last token.

    The control a PPO result is read against: with it the updates are pure noise, so what it does to the
    policy is the cost of the noise alone, and what a real reward adds is its gain over this."""
    import random

    rng = random.Random(seed)
    return lambda questions, prompts, responses, tokenizer: [([-1], [float(rng.random() < 0.5)]) for _ in responses]
