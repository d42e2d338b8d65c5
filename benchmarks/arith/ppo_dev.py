"""PPO settings on the dev split: does greedy accuracy move, and which way, under a given reward?

    python -m benchmarks.arith.ppo_dev (--demo DIR | --policy DIR) [--reward
    gold|gold-steps|random|orm|prm|likelihood-prm]
        [--config NAME:key=value,key=value ...] [--steps 40] [--eval-every 10]

Each ``--config`` is a :class:`verikit.rl.ppo.StepPPOConfig` override set, run from the same SFT policy on
the same train problems; greedy accuracy on the first ``--dev-problems`` dev problems is measured before
training and every ``--eval-every`` steps. ``--reward gold`` (the checker against the gold answer, a
perfect outcome reward) separates "PPO cannot improve this policy with these settings" from "this reward
model misleads it"; ``--reward gold-steps`` is a perfect *process* reward (each step's exact label from
``verikit_arith.labeller`` on its last token), the ceiling of what any PRM can give step-PPO; ``--reward
random`` (a coin flip) is the floor: what the updates' noise alone does. The test
split is never read. Writes ``OUT/ppo_dev.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import verikit

DEFAULT_CONFIGS = [
    "paper-like:learning_rate=2e-5",
    "lam1-T0.7:learning_rate=2e-5,lam=1.0,temperature=0.7,critic_shares_trunk=False",
    "lam1-T0.7-lr1e-4:learning_rate=1e-4,lam=1.0,temperature=0.7,critic_shares_trunk=False",
    "critic-warmup:learning_rate=3e-5,lam=1.0,temperature=0.7,critic_shares_trunk=False,critic_warmup_steps=10,"
    "critic_learning_rate=1e-3",
]


def parse_config(text: str):
    """``NAME:key=value,...`` → (name, overrides)."""
    from verikit.rl.ppo import parse_overrides

    name, _, body = text.partition(":")
    try:
        return name, parse_overrides(body)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def reward_function(kind: str, demo: Path | None, preset: str, checker, splitter, train):
    from verikit.rl.rewards import coin_flip_reward, orm_final_reward, prm_step_rewards

    if kind == "gold":
        gold = {p.question: p.gold_answer for p in train}
        return lambda questions, prompts, responses, tokenizer: [
            ([-1], [1.0 if checker.is_correct(r, gold[q]) else 0.0]) for q, r in zip(questions, responses)
        ]
    if kind == "gold-steps":
        return gold_step_rewards(splitter, train)
    if kind == "random":
        return coin_flip_reward()
    if demo is None:
        raise SystemExit(f"--reward {kind} needs --demo (the folder holding the reward models)")
    scorer = verikit.scorer(demo / preset / "reward_models" / kind)
    return orm_final_reward(scorer, splitter) if kind == "orm" else prm_step_rewards(scorer, splitter)


class GoldStepScorer:
    """A perfect PRM with a scorer's ``score(questions, steps)``: each step's exact label from
    ``verikit_arith.labeller`` (1 if the prefix up to it is correct work, else 0)."""

    def __init__(self, problems):
        self.by_question = {p.question: p for p in problems}

    def score(self, questions, step_lists):
        from verikit_arith.labeller import step_correctness

        return [
            [float(label) for label in step_correctness(self.by_question[q], steps)]
            for q, steps in zip(questions, step_lists)
        ]


def gold_step_rewards(splitter, train):
    """Step-PPO's reward (:func:`verikit.rl.rewards.prm_step_rewards`) with the perfect PRM of ``train``."""
    from verikit.rl.rewards import prm_step_rewards

    return prm_step_rewards(GoldStepScorer(train), splitter)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy", help="The SFT policy (default: the --demo folder's).")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument(
        "--reward", default="gold", choices=["gold", "gold-steps", "random", "orm", "prm", "likelihood-prm"]
    )
    parser.add_argument("--demo", type=Path, help="A verikit demo folder: its policy and reward models.")
    parser.add_argument("--config", action="append", help="NAME:key=value,... (repeatable); default: a fixed set.")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--dev-problems", type=int, default=200)
    parser.add_argument("--train-problems", type=int, default=4000)
    parser.add_argument(
        "--train-on-dev",
        action="store_true",
        help="Train on the dev problems that are evaluated (a check that PPO learns what it is shown; "
        "the figures then say nothing about generalisation).",
    )
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/ppo_dev"))
    args = parser.parse_args(argv)
    from verikit.rl.config import StepPPOConfig
    from verikit.rl.ppo import StepPPOTrainer
    from verikit.rl.runs import greedy_accuracy
    from verikit_arith.evaluation import MAX_NEW_TOKENS

    if args.policy is None:
        if args.demo is None:
            parser.error("give --demo or --policy")
        args.policy = json.loads((args.demo / "details.json").read_text())[args.preset]["policy"]
    configs = [parse_config(c) for c in (args.config or DEFAULT_CONFIGS)]
    train = verikit.load_dataset(args.preset, split="train", limit=args.train_problems)
    dev = verikit.load_dataset(args.preset, split="dev", limit=args.dev_problems)
    if args.train_on_dev:
        train = dev
    domain = verikit.domain(dev[0].domain)
    checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
    tokens = MAX_NEW_TOKENS.get(args.preset, 320)
    reward = reward_function(args.reward, args.demo, args.preset, checker, splitter, train)
    start = greedy_accuracy(verikit.completer("transformers", model=args.policy), dev, domain, checker, tokens)
    print(f"SFT policy: dev greedy {100 * start:.1f}% ({len(dev)} problems); reward {args.reward}", flush=True)
    results = {"sft_dev_greedy": start, "reward": args.reward, "configs": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, overrides in configs:
        started = time.perf_counter()
        config = StepPPOConfig(**({"max_new_tokens": tokens} | overrides))
        trainer = StepPPOTrainer(args.policy, reward, domain, config)
        history = trainer.train(
            train,
            args.steps,
            eval_every=args.eval_every,
            progress=False,
            evaluate=lambda sampler: greedy_accuracy(sampler, dev, domain, checker, tokens),
        )
        curve = [(0, start)] + [(h["step"], h["eval"]) for h in history if "eval" in h]
        results["configs"][name] = {
            "overrides": overrides,
            "dev_greedy": curve,
            "rollout_reward": [h["rm_reward"] for h in history],
            "minutes": round((time.perf_counter() - started) / 60, 2),
        }
        print(
            f"{name:<22} dev greedy "
            + " → ".join(f"{100 * a:.1f}" for _, a in curve)
            + f"  (steps 0..{args.steps}; {results['configs'][name]['minutes']:.1f} min)",
            flush=True,
        )
        (args.out / "ppo_dev.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out / 'ppo_dev.json'}")
    return results


if __name__ == "__main__":
    main()
