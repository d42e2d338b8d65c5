"""Running RL from a policy with verikit reward models: step-PPO, ORM-PPO, rejection-sampling fine-tuning and
GRPO with process rewards, each followed by a greedy evaluation on dev (``verikit rl`` and the benchmarks
call :func:`run_rl`)."""

from __future__ import annotations

import json
from pathlib import Path

from verikit import components
from verikit.errors import VerikitError
from verikit.rl.config import RLConfig


def greedy_accuracy(completer, problems, domain, checker, max_new_tokens: int = 160) -> float:
    """The share of ``problems`` whose greedy solution the checker accepts."""
    texts = completer.complete([domain.prompt(p) for p in problems], n=1, temperature=0.0, max_new_tokens=max_new_tokens)
    return sum(checker.is_correct(t[0], p.gold_answer) for t, p in zip(texts, problems)) / len(problems)


def run_rl(config: RLConfig, out: str | Path) -> dict:
    """Run ``config`` into ``out`` (the trained model in ``out/model``); returns and writes ``out/rl.json``."""
    out = Path(out)
    problems = components.load_dataset(config.dataset, split="train", limit=config.train_problems)
    dev = components.load_dataset(config.dataset, split="dev", limit=config.eval_problems) if config.eval_problems else []
    domain = components.domain(problems[0].domain)
    if config.prompt_template is not None:
        domain = domain.model_copy(update={"prompt_template": config.prompt_template})
    checker, splitter = components.answer_checker(domain.answer_checker), components.step_splitter(domain.step_splitter)
    tokens = config.ppo.max_new_tokens
    out.mkdir(parents=True, exist_ok=True)
    if config.algo == "rft":
        from verikit.rl.rft import rejection_samples, supervised_finetune

        sampler = components.completer("transformers", model=config.policy, max_new_tokens=tokens)
        pairs = rejection_samples(sampler, problems, domain, checker, k=config.rft_samples, seed=config.ppo.seed,
                                  max_new_tokens=tokens)
        summary = {"algo": config.algo, "pairs": len(pairs)}
        if pairs:
            supervised_finetune(config.policy, pairs, out / "model", learning_rate=config.ppo.learning_rate, seed=config.ppo.seed)
        else:  # nothing to fine-tune on: RFT leaves the policy as it was (said in rl.json and on stderr, not hidden)
            import sys

            from transformers import AutoModelForCausalLM, AutoTokenizer

            summary["warning"] = "no sampled solution was correct: the RFT model is the SFT policy unchanged"
            sys.stderr.write(f"verikit rl: {summary['warning']}\n")
            AutoModelForCausalLM.from_pretrained(config.policy).save_pretrained(out / "model")
            AutoTokenizer.from_pretrained(config.policy).save_pretrained(out / "model")
    elif config.algo in ("step-ppo", "orm-ppo"):
        from verikit.rl.ppo import StepPPOTrainer
        from verikit.rl.rewards import orm_final_reward, prm_step_rewards

        scorer = components.load_scorer(config.rm, released_convention=config.released_convention)
        reward = prm_step_rewards(scorer, splitter) if config.algo == "step-ppo" else orm_final_reward(scorer, splitter)
        trainer = StepPPOTrainer(config.policy, reward, domain, config.ppo)
        evaluate = (lambda sampler: greedy_accuracy(sampler, dev, domain, checker, tokens)) if dev else None
        history = trainer.train(problems, config.steps, out=out / "model", eval_every=config.eval_every, evaluate=evaluate)
        summary = {"algo": config.algo, "history": history}
        if dev:
            summary["dev_greedy_acc"] = greedy_accuracy(trainer.sampler, dev, domain, checker, tokens)
    else:
        summary = _grpo_process(config, problems, domain, checker, splitter, out)
    if dev and "dev_greedy_acc" not in summary:
        trained = components.completer("transformers", model=str(out / "model"))
        summary["dev_greedy_acc"] = greedy_accuracy(trained, dev, domain, checker, tokens)
    summary["config"] = config.model_dump()
    (out / "rl.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _grpo_process(config: RLConfig, problems, domain, checker, splitter, out: Path) -> dict:
    import torch

    try:
        from datasets import Dataset
        from trl import GRPOConfig
    except ImportError as exc:
        raise VerikitError("grpo-process needs TRL and datasets: pip install 'verikit[trl]'") from exc
    from verikit.rl.grpo_trainer import ProcessGRPOTrainer

    golds = {p.question: p.gold_answer for p in problems}
    data = Dataset.from_list([{"prompt": domain.prompt(p), "question": p.question} for p in problems])

    def correctness(prompts, completions, question, **kwargs):  # logged by TRL; the advantages come from the PRM
        return [float(checker.is_correct(c, golds[q])) for c, q in zip(completions, question)]

    recipe = config.grpo
    args = GRPOConfig(output_dir=str(out / "checkpoints"), max_steps=config.steps, learning_rate=config.ppo.learning_rate,
                      seed=config.ppo.seed, per_device_train_batch_size=recipe.per_device_train_batch_size,
                      num_generations=recipe.num_generations, max_completion_length=config.ppo.max_new_tokens,
                      logging_steps=recipe.logging_steps, save_steps=max(10, config.steps // recipe.checkpoints),
                      report_to=[], beta=recipe.beta, use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available())
    scorer = components.load_scorer(config.rm, released_convention=config.released_convention)
    trainer = ProcessGRPOTrainer(model=config.policy, reward_funcs=correctness, args=args, train_dataset=data,
                                 process_scorer=scorer, splitter=splitter, question_key="question")
    trainer.train()
    trainer.save_model(str(out / "model"))
    return {"algo": "grpo-process", "log": trainer.state.log_history}
