"""``verikit rl --algo step-ppo|orm-ppo|rft|grpo-process``: RL from a policy with verikit reward models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def greedy_accuracy(completer, problems, domain, checker, max_new_tokens: int = 160) -> float:
    texts = completer.complete([domain.prompt(p) for p in problems], n=1, temperature=0.0, max_new_tokens=max_new_tokens)
    return sum(checker.is_correct(t[0], p.gold_answer) for t, p in zip(texts, problems)) / len(problems)


def rl(
    algo: str = typer.Option(..., help="step-ppo (PRM reward on each step's last token), orm-ppo, rft or grpo-process."),
    policy: str = typer.Option(..., help="The SFT policy to start from."),
    out: Path = typer.Option(..., help="Output folder (checkpoints; a killed run resumes)."),
    rm: Optional[str] = typer.Option(None, help="Reward model folder (PRM for step-ppo/grpo-process, ORM for orm-ppo)."),
    dataset: str = typer.Option("arith-easy"),
    train_problems: int = typer.Option(2000),
    eval_problems: int = typer.Option(200, help="Dev problems for the periodic greedy evaluation."),
    steps: int = typer.Option(50, help="PPO steps (or GRPO steps)."),
    prompts_per_step: int = typer.Option(32),
    learning_rate: float = typer.Option(1e-5),
    kl_coef: float = typer.Option(0.04),
    temperature: float = typer.Option(1.0, help="Rollout sampling temperature (PPO)."),
    lam: float = typer.Option(0.95, help="GAE λ (1.0: undiscounted returns minus the critic's value)."),
    critic_warmup_steps: int = typer.Option(0, help="PPO steps that train only the critic before the policy moves."),
    critic_learning_rate: Optional[float] = typer.Option(None, help="The value head's learning rate (default: --learning-rate)."),
    critic_shares_trunk: bool = typer.Option(True, help="--no-critic-shares-trunk: the critic reads detached hidden states."),
    advantage_floor: Optional[float] = typer.Option(None, help="Raise whitened advantages below this to it (0: reinforce only better-than-expected tokens)."),
    samples_per_prompt: int = typer.Option(1, help="Responses sampled per prompt at each PPO step."),
    baseline: str = typer.Option("critic", help="critic (GAE on the value head) or group (each prompt's samples are its baseline; needs --samples-per-prompt ≥ 2)."),
    process_credit: str = typer.Option("to-come", help="With --baseline group: to-come (a token gets its step's and every later step's reward) or own-step."),
    warmup_updates: int = typer.Option(0, help="Optimiser updates over which the learning rate rises linearly from 0."),
    lr_decay: str = typer.Option("constant", help="constant, linear or cosine: the learning rate falls to 0 over --steps."),
    lora_rank: int = typer.Option(0, help="Train LoRA adapters of this rank instead of every weight (needs peft: verikit[lora])."),
    eval_every: int = typer.Option(10),
    rft_samples: int = typer.Option(4, help="K for rft."),
    max_new_tokens: int = typer.Option(160),
    seed: int = typer.Option(0),
    released_convention: bool = typer.Option(False, help="Read an --rm without verikit_rm.json as a Math-Shepherd PRM (+/- at ки)."),
) -> None:
    """Reinforcement learning with process (or outcome) rewards, with periodic greedy evaluation on dev."""
    from verikit import components

    problems = components.load_dataset(dataset, split="train", limit=train_problems)
    dev = components.load_dataset(dataset, split="dev", limit=eval_problems)
    domain = components.domain(problems[0].domain)
    checker, splitter = components.answer_checker(domain.answer_checker), components.step_splitter(domain.step_splitter)
    out.mkdir(parents=True, exist_ok=True)
    if algo == "rft":
        from verikit.rl.rft import rejection_samples, supervised_finetune

        sampler = components.completer("transformers", model=policy, max_new_tokens=max_new_tokens)
        pairs = rejection_samples(sampler, problems, domain, checker, k=rft_samples, seed=seed, max_new_tokens=max_new_tokens)
        supervised_finetune(policy, pairs, out / "model", learning_rate=learning_rate, seed=seed)
        accuracy = greedy_accuracy(components.completer("transformers", model=str(out / "model")), dev, domain, checker, max_new_tokens)
        summary = {"algo": algo, "pairs": len(pairs), "dev_greedy_acc": accuracy}
    elif algo in ("step-ppo", "orm-ppo"):
        from verikit.rl.ppo import StepPPOConfig, StepPPOTrainer
        from verikit.rl.rewards import orm_final_reward, prm_step_rewards

        if rm is None:
            raise typer.BadParameter("--rm is required for PPO")
        scorer = components.load_scorer(rm, released_convention=released_convention)
        reward = prm_step_rewards(scorer, splitter) if algo == "step-ppo" else orm_final_reward(scorer, splitter)
        config = StepPPOConfig(learning_rate=learning_rate, kl_coef=kl_coef, prompts_per_step=prompts_per_step,
                               max_new_tokens=max_new_tokens, temperature=temperature, lam=lam,
                               critic_warmup_steps=critic_warmup_steps, critic_learning_rate=critic_learning_rate,
                               critic_shares_trunk=critic_shares_trunk, advantage_floor=advantage_floor, seed=seed,
                               samples_per_prompt=samples_per_prompt, baseline=baseline, process_credit=process_credit,
                               warmup_updates=warmup_updates, lr_decay=lr_decay,
                               lora_rank=lora_rank)
        trainer = StepPPOTrainer(policy, reward, domain, config)
        history = trainer.train(problems, steps, out=out / "model", eval_every=eval_every,
                                evaluate=lambda sampler: greedy_accuracy(sampler, dev, domain, checker, max_new_tokens))
        summary = {"algo": algo, "history": history, "dev_greedy_acc": greedy_accuracy(trainer.sampler, dev, domain, checker, max_new_tokens)}
    elif algo == "grpo-process":
        summary = _grpo_process(policy, rm, problems, domain, checker, splitter, out, steps, learning_rate, seed, max_new_tokens,
                                released_convention)
        summary["dev_greedy_acc"] = greedy_accuracy(components.completer("transformers", model=str(out / "model")), dev, domain,
                                                    checker, max_new_tokens)
    else:
        raise typer.BadParameter(f"--algo must be step-ppo, orm-ppo, rft or grpo-process, got {algo!r}")
    (out / "rl.json").write_text(json.dumps(summary, indent=2) + "\n")
    typer.echo(f"{algo}: dev greedy accuracy {100 * summary['dev_greedy_acc']:.1f}%; wrote {out / 'rl.json'}")


def _grpo_process(policy, rm, problems, domain, checker, splitter, out, steps, learning_rate, seed, max_new_tokens,
                  released_convention: bool = False) -> dict:
    import torch

    from verikit import components

    try:
        from datasets import Dataset
        from trl import GRPOConfig
    except ImportError as exc:
        raise typer.BadParameter("grpo-process needs TRL and datasets: pip install 'verikit[trl]'") from exc
    from verikit.rl.grpo import process_grpo_trainer_class

    if rm is None:
        raise typer.BadParameter("--rm (a PRM) is required for grpo-process")
    golds = {p.question: p.gold_answer for p in problems}
    data = Dataset.from_list([{"prompt": domain.prompt(p), "question": p.question} for p in problems])

    def correctness(prompts, completions, question, **kwargs):  # logged by TRL; the advantages come from the PRM
        return [float(checker.is_correct(c, golds[q])) for c, q in zip(completions, question)]

    args = GRPOConfig(output_dir=str(out / "checkpoints"), max_steps=steps, learning_rate=learning_rate, seed=seed,
                      per_device_train_batch_size=8, num_generations=4, max_completion_length=max_new_tokens,
                      logging_steps=5, save_steps=max(10, steps // 4), report_to=[], beta=0.04,
                      use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available())
    trainer = process_grpo_trainer_class()(model=policy, reward_funcs=correctness, args=args, train_dataset=data,
                                           process_scorer=components.load_scorer(rm, released_convention=released_convention), splitter=splitter, question_key="question")
    trainer.train()
    trainer.save_model(str(out / "model"))
    return {"algo": "grpo-process", "log": trainer.state.log_history}
