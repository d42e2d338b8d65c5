"""GRPO whose advantages come from a verikit PRM, step by step: a ``trl.GRPOTrainer`` subclass.

A module of its own because it imports TRL (the extra ``verikit[trl]``) at import time.
"""

from __future__ import annotations

from trl import GRPOTrainer

from verikit.rl.grpo import group_advantages_tensor
from verikit.rl.rewards import prm_step_rewards, reward_placements


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
        self.question_key = question_key
        # each readable step's PRM score on its last token; an unreadable response one 0 on its last
        self.process_reward = prm_step_rewards(process_scorer, splitter)

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        tokenizer = self.processing_class
        completion_ids, mask = output["completion_ids"], output["completion_mask"]
        responses = tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
        prompts = [x["prompt"] if isinstance(x["prompt"], str) else str(x["prompt"]) for x in inputs]
        questions = [x.get(self.question_key, p) for x, p in zip(inputs, prompts)]
        lengths = mask.sum(dim=1).long().tolist()
        placements = reward_placements(self.process_reward, questions, prompts, responses, tokenizer, lengths)
        advantages = group_advantages_tensor(placements, lengths, self.num_generations, mask.shape[1])
        output["advantages"] = advantages.to(completion_ids.device) * mask
        return output
