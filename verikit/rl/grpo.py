"""GRPO with process supervision (DeepSeekMath §4.1.3) on top of ``trl.GRPOTrainer``.

For a group of G responses to one prompt, every step reward of every response is normalised with the
mean and standard deviation of *all* step rewards in the group; a token's advantage is the sum of the
normalised rewards of the steps that end at or after it. :func:`process_advantages` is that computation;
:class:`ProcessGRPOTrainer` puts it into TRL (whose loss accepts per-token ``[B, T]`` advantages from
subclasses) with a verikit PRM supplying the step rewards.
"""

from __future__ import annotations

from collections.abc import Sequence


def process_advantages(step_rewards: Sequence[Sequence[float]], step_ends: Sequence[Sequence[int]],
                       lengths: Sequence[int], eps: float = 1e-4, credit: str = "to-come") -> list[list[float]]:
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
            start = 0
            for end, value in order:
                for t in range(start, min(end, length - 1) + 1):
                    advantages[t] = value
                start = max(start, min(end, length - 1) + 1)
            for t in range(start, length):
                advantages[t] = order[-1][1]
        result.append(advantages)
    return result


def process_grpo_trainer_class():
    """``ProcessGRPOTrainer``, defined on first use so that importing verikit never imports TRL."""
    import torch
    from trl import GRPOTrainer

    from verikit.rl.rewards import score_readable, step_end_tokens

    class ProcessGRPOTrainer(GRPOTrainer):
        """``trl.GRPOTrainer`` whose advantages come from a verikit PRM, step by step.

        Extra arguments: ``process_scorer`` (``verikit.scorer(path)``), ``splitter`` (a verikit
        StepSplitter) and ``question_key`` (the dataset column holding the question the PRM reads;
        default ``"prompt"``). TRL still needs a ``reward_funcs`` for its logging; the advantages it
        computes from them are replaced. Groups are normalised within each process's batch (single
        process: exactly the paper's groups).
        """

        def __init__(self, *args, process_scorer, splitter, question_key: str = "prompt", **kwargs):
            super().__init__(*args, **kwargs)
            self.process_scorer, self.splitter, self.question_key = process_scorer, splitter, question_key

        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            tokenizer = self.processing_class
            completion_ids, mask = output["completion_ids"], output["completion_mask"]
            responses = tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
            prompts = [x["prompt"] if isinstance(x["prompt"], str) else str(x["prompt"]) for x in inputs]
            questions = [x.get(self.question_key, p) for x, p in zip(inputs, prompts)]
            steps, by_index = score_readable(self.process_scorer, self.splitter, questions, responses)
            scores, ends = [], []
            for i, (prompt, response) in enumerate(zip(prompts, responses)):
                if i in by_index:  # each step's score on its last token
                    scores.append(by_index[i])
                    ends.append(step_end_tokens(tokenizer, prompt, response, steps[i], self.splitter))
                else:  # unreadable: one reward of 0 at the end, below what any readable response gets
                    scores.append([0.0])
                    ends.append([max(0, int(mask[i].sum().item()) - 1)])
            lengths = mask.sum(dim=1).tolist()
            advantages = torch.zeros_like(mask, dtype=torch.float32)
            group = self.num_generations
            for start in range(0, len(responses), group):
                block = process_advantages(scores[start : start + group], ends[start : start + group],
                                           [int(n) for n in lengths[start : start + group]])
                for offset, row in enumerate(block):
                    advantages[start + offset, : len(row)] = torch.tensor(row)
            output["advantages"] = advantages.to(completion_ids.device) * mask
            return output

    return ProcessGRPOTrainer
