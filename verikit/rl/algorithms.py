"""RL algorithms by name (``register_rl_algorithms``): each is one record and one function.

An :class:`RLAlgorithm`'s ``run(config, out, context)`` trains ``config.policy`` into ``out/model`` and returns
its summary (``verikit rl`` and the pipeline's ``rl`` stage write it to ``out/rl.json``). ``context``
(:class:`RLContext`) holds what every algorithm needs: the train and dev problems, the domain, its checker and
splitter, a completer factory for the run's backend. The core registers ``rft``, ``step-ppo``, ``orm-ppo`` and
``grpo-process``; a plugin's algorithm is one module and one registration (docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verikit.errors import VerikitError


@dataclass(frozen=True)
class RLAlgorithm:
    """One RL algorithm: ``run(config, out, context) -> summary``; ``needs_reward_model`` makes ``rm`` required."""

    run: Callable[..., dict]
    needs_reward_model: bool = True
    description: str = ""


@dataclass
class RLContext:
    """What an algorithm is given besides its config: problems, domain, checker, splitter and a sampler factory."""

    problems: list
    dev: list
    domain: Any
    checker: Any
    splitter: Any
    completer: Callable[..., Any]  # completer(model, **settings): the run's backend

    def greedy_accuracy(self, completer, max_new_tokens: int) -> float | None:
        """The share of the dev problems whose greedy solution the checker accepts (None without dev problems)."""
        if not self.dev:
            return None
        texts = completer.complete(
            [self.domain.prompt(p) for p in self.dev], n=1, temperature=0.0, max_new_tokens=max_new_tokens
        )
        return sum(self.checker.is_correct(t[0], p.gold_answer) for t, p in zip(texts, self.dev)) / len(self.dev)


def run_rft(config, out: Path, context: RLContext) -> dict:
    """Rejection-sampling fine-tuning: ``rft.samples`` per question, the distinct correct ones fine-tuned on."""
    from verikit import components
    from verikit.rl.rft import rejection_samples, supervised_finetune

    settings = config.rft
    questions = context.problems
    if settings.datasets:
        limit = settings.problems or config.train_problems
        questions = [p for name in settings.datasets for p in components.load_dataset(name, split="train", limit=limit)]
    sampler = context.completer(config.policy, max_new_tokens=config.ppo.max_new_tokens)
    pairs = rejection_samples(
        sampler,
        questions,
        context.domain,
        context.checker,
        k=settings.samples,
        temperature=settings.temperature,
        seed=config.ppo.seed,
        max_new_tokens=config.ppo.max_new_tokens,
    )
    close = getattr(sampler, "close", None)
    if callable(close):
        close()
    summary = {"algo": config.algo, "questions": len(questions), "pairs": len(pairs)}
    if pairs:
        supervised_finetune(
            config.policy,
            pairs,
            out / "model",
            learning_rate=settings.learning_rate,
            min_learning_rate=settings.min_learning_rate,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            max_length=settings.max_length,
            seed=config.ppo.seed,
        )
    else:  # nothing to fine-tune on: RFT leaves the policy as it was (said in rl.json and on stderr, not hidden)
        import sys

        from transformers import AutoModelForCausalLM, AutoTokenizer

        summary["warning"] = "no sampled solution was correct: the RFT model is the SFT policy unchanged"
        sys.stderr.write(f"verikit rl: {summary['warning']}\n")
        AutoModelForCausalLM.from_pretrained(config.policy).save_pretrained(out / "model")
        AutoTokenizer.from_pretrained(config.policy).save_pretrained(out / "model")
    return summary


def _ppo(config, out: Path, context: RLContext, reward_of) -> dict:
    from verikit import components
    from verikit.rl.ppo import StepPPOTrainer

    scorer = components.load_scorer(config.rm, released_convention=config.released_convention)
    trainer = StepPPOTrainer(config.policy, reward_of(scorer, context.splitter), context.domain, config.ppo)
    tokens = config.ppo.max_new_tokens
    evaluate = (lambda sampler: context.greedy_accuracy(sampler, tokens)) if context.dev else None
    history = trainer.train(
        context.problems, config.steps, out=out / "model", eval_every=config.eval_every, evaluate=evaluate
    )
    summary = {"algo": config.algo, "history": history}
    if context.dev:
        summary["dev_greedy_acc"] = context.greedy_accuracy(trainer.sampler, tokens)
    return summary


def run_step_ppo(config, out: Path, context: RLContext) -> dict:
    """PPO with the PRM's score of each step at the step's last token (the paper's step-by-step PPO)."""
    from verikit.rl.rewards import prm_step_rewards

    return _ppo(config, out, context, prm_step_rewards)


def run_orm_ppo(config, out: Path, context: RLContext) -> dict:
    """PPO with one reward, the ORM's, at the response's last token (the paper's ORM-PPO baseline)."""
    from verikit.rl.rewards import orm_final_reward

    return _ppo(config, out, context, orm_final_reward)


def run_grpo_process(config, out: Path, context: RLContext) -> dict:
    """TRL's GRPO with advantages from the PRM's step scores (DeepSeekMath's process supervision)."""
    import torch

    try:
        from datasets import Dataset
        from trl import GRPOConfig
    except ImportError as exc:
        raise VerikitError("grpo-process needs TRL and datasets: pip install 'verikit[trl]'") from exc
    from verikit import components
    from verikit.rl.grpo_trainer import ProcessGRPOTrainer

    golds = {p.question: p.gold_answer for p in context.problems}
    data = Dataset.from_list([{"prompt": context.domain.prompt(p), "question": p.question} for p in context.problems])

    def correctness(prompts, completions, question, **kwargs):  # logged by TRL; the advantages come from the PRM
        return [float(context.checker.is_correct(c, golds[q])) for c, q in zip(completions, question)]

    settings = config.grpo
    args = GRPOConfig(
        output_dir=str(out / "checkpoints"),
        max_steps=config.steps,
        learning_rate=config.ppo.learning_rate,
        seed=config.ppo.seed,
        per_device_train_batch_size=settings.per_device_train_batch_size,
        num_generations=settings.num_generations,
        max_completion_length=config.ppo.max_new_tokens,
        logging_steps=settings.logging_steps,
        save_steps=max(10, config.steps // settings.checkpoints),
        report_to=[],
        beta=settings.beta,
        use_cpu=not torch.cuda.is_available(),
        bf16=torch.cuda.is_available(),
    )
    scorer = components.load_scorer(config.rm, released_convention=config.released_convention)
    trainer = ProcessGRPOTrainer(
        model=config.policy,
        reward_funcs=correctness,
        args=args,
        train_dataset=data,
        process_scorer=scorer,
        splitter=context.splitter,
        question_key="question",
    )
    trainer.train()
    trainer.save_model(str(out / "model"))
    return {"algo": "grpo-process", "log": trainer.state.log_history}


RFT = RLAlgorithm(
    run=run_rft,
    needs_reward_model=False,
    description="rejection-sampling fine-tuning: K samples per question, SFT on the distinct correct ones",
)
STEP_PPO = RLAlgorithm(
    run=run_step_ppo, description="PPO, the PRM's score of each step at the step's last token (the paper)"
)
ORM_PPO = RLAlgorithm(run=run_orm_ppo, description="PPO, the ORM's score at the response's last token")
GRPO_PROCESS = RLAlgorithm(
    run=run_grpo_process, description="TRL's GRPO with process advantages from the PRM's step scores (DeepSeekMath)"
)
