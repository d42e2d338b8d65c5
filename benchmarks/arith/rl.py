"""The miniature Table 2: greedy test accuracy after SFT, RFT, ORM-PPO and step-level PPO, over seeds.

    python -m benchmarks.arith.rl --demo out/demo [--preset arith-easy] [--seeds 0,1,2] [--steps 40]

``--demo``: a ``verikit demo`` folder (its policy is the SFT model; its ORM and PRM give the rewards;
``--prm likelihood-prm`` uses the likelihood PRM for step-PPO instead of the paper's tag head). For each
seed: RFT (K samples per train problem, keep the correct, fine-tune), ORM-PPO and step-PPO for
``--steps`` PPO steps; greedy accuracy on the first ``--test-problems`` test problems. ``--ppo key=value,...``
sets any :class:`verikit.rl.ppo.StepPPOConfig` field for both PPO runs (choose them on dev with
``benchmarks.arith.ppo_dev`` — the test split is only read for the final figures); ``--noise-control``
adds PPO with a coin-flip reward under the same settings, the floor each reward's gain is read against.
Writes ``OUT/rl.json`` = ``{method: {mean, std, seeds}}`` and ``OUT/table2.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import verikit


def greedy(model_or_completer, problems, domain, checker, max_new_tokens: int) -> float:
    from verikit.rl.runs import greedy_accuracy

    completer = (
        verikit.completer("transformers", model=str(model_or_completer))
        if isinstance(model_or_completer, (str, Path))
        else model_or_completer
    )
    return greedy_accuracy(completer, problems, domain, checker, max_new_tokens)


def rft_row(args, policy, train, test, domain, checker, tokens, seed, sft, results) -> None:
    """RFT for one seed: the policy's own correct samples, fine-tuned on."""
    from verikit.rl.rft import rejection_samples, supervised_finetune

    sampler = verikit.completer("transformers", model=policy, max_new_tokens=tokens)
    pairs = rejection_samples(
        sampler, train[: args.rft_problems], domain, checker, k=args.rft_samples, seed=seed, max_new_tokens=tokens
    )
    if pairs:
        rft_model = supervised_finetune(
            policy, pairs, args.out / f"rft-{seed}", learning_rate=1e-4, seed=seed, progress=False
        )
        rft_accuracy = greedy(rft_model, test, domain, checker, tokens)
    else:  # nothing sampled was correct: rejection sampling keeps nothing, so RFT leaves the policy as it was
        print(f"seed {seed}: no correct sample among {args.rft_problems} x {args.rft_samples}; RFT = SFT", flush=True)
        rft_accuracy = sft
    results.setdefault("rft", {"seeds": {}, "pairs": {}})["seeds"][seed] = rft_accuracy
    results["rft"]["pairs"][seed] = len(pairs)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, help="A verikit demo folder: the policy and reward models of --preset.")
    parser.add_argument("--policy", help="The SFT policy (instead of the demo's).")
    parser.add_argument("--orm", help="The ORM folder for ORM-PPO (instead of the demo's).")
    parser.add_argument("--step-rm", help="The PRM folder for step-PPO (instead of the demo's --prm).")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=40, help="PPO steps.")
    parser.add_argument("--prompts-per-step", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--rft-problems", type=int, default=1000)
    parser.add_argument("--rft-samples", type=int, default=4)
    parser.add_argument("--prm", default="prm", help="prm (the paper's tag head) or likelihood-prm.")
    parser.add_argument("--test-problems", type=int, default=500)
    parser.add_argument("--max-new-tokens", type=int, help="Longest response (default: the preset's, as in the demo).")
    parser.add_argument(
        "--ppo",
        default="",
        help="More StepPPOConfig settings for both PPO runs, key=value,... "
        "(e.g. baseline=group,samples_per_prompt=8,process_credit=own-step).",
    )
    parser.add_argument(
        "--noise-control",
        action="store_true",
        help="Also run PPO with a coin-flip reward (same settings, each seed): what the updates' noise "
        "alone does, the floor each reward's gain is read against.",
    )
    parser.add_argument(
        "--methods",
        default="rft,orm-ppo,step-ppo",
        help="Which rows to train (SFT is always measured): any of rft, orm-ppo, step-ppo.",
    )
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/rl"))
    args = parser.parse_args(argv)
    methods = set(args.methods.split(","))
    if methods - {"rft", "orm-ppo", "step-ppo"}:
        parser.error(
            f"unknown methods {sorted(methods - {'rft', 'orm-ppo', 'step-ppo'})}; choose from rft, orm-ppo, step-ppo"
        )
    from verikit.rl.config import StepPPOConfig
    from verikit.rl.ppo import StepPPOTrainer, parse_overrides
    from verikit.rl.rewards import coin_flip_reward, orm_final_reward, prm_step_rewards
    from verikit_arith.evaluation import MAX_NEW_TOKENS

    tokens = args.max_new_tokens or MAX_NEW_TOKENS.get(args.preset, 320)
    try:
        overrides = parse_overrides(args.ppo)
    except ValueError as exc:
        parser.error(str(exc))

    if args.demo is None and not (args.policy and args.orm and args.step_rm):
        parser.error("give --demo, or all of --policy, --orm and --step-rm")
    details = json.loads((args.demo / "details.json").read_text()) if args.demo else {}
    policy = args.policy or details[args.preset]["policy"]
    orm_path = args.orm or args.demo / args.preset / "reward_models" / "orm"
    step_rm_path = args.step_rm or args.demo / args.preset / "reward_models" / args.prm
    train = verikit.load_dataset(args.preset, split="train", limit=max(args.rft_problems, 2000))
    test = verikit.load_dataset(args.preset, split="test", limit=args.test_problems)
    domain = verikit.domain(test[0].domain)
    checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sft = greedy(policy, test, domain, checker, tokens)
    results: dict = {"sft": {"seeds": {s: sft for s in args.seeds.split(",")}}}
    print(f"SFT (the demo's policy): greedy test accuracy {100 * sft:.1f}%", flush=True)
    for seed in [int(s) for s in args.seeds.split(",")]:
        if "rft" in methods:
            rft_row(args, policy, train, test, domain, checker, tokens, seed, sft, results)
        runs = [
            (name, make())
            for name, make in (
                ("orm-ppo", lambda: orm_final_reward(verikit.scorer(orm_path), splitter)),
                ("step-ppo", lambda: prm_step_rewards(verikit.scorer(step_rm_path), splitter)),
            )
            if name in methods
        ]
        if args.noise_control:
            runs.append(("coin-flip-ppo", coin_flip_reward(seed)))
        for name, reward in runs:
            config = StepPPOConfig(
                **{
                    "learning_rate": args.learning_rate,
                    "prompts_per_step": args.prompts_per_step,
                    "max_new_tokens": tokens,
                }
                | overrides
                | {"seed": seed}
            )
            trainer = StepPPOTrainer(policy, reward, domain, config)
            trainer.train(train, args.steps, out=args.out / f"{name}-{seed}", progress=False)
            results.setdefault(name, {"seeds": {}})["seeds"][seed] = greedy(
                trainer.sampler, test, domain, checker, tokens
            )
        print(
            f"seed {seed}: "
            + ", ".join(f"{m} {100 * r['seeds'][seed]:.1f}%" for m, r in results.items() if seed in r["seeds"])
            + f" ({(time.perf_counter() - started) / 60:.1f} min so far)",
            flush=True,
        )
    for row in results.values():
        values = list(row["seeds"].values())
        row.update(mean=statistics.mean(values), std=statistics.pstdev(values))
    lines = [
        f"Table 2 on the miniature ({args.preset}, greedy accuracy on {len(test)} test problems, mean ± sd over seeds "
        f"{args.seeds}; step-PPO reward: {step_rm_path}; PPO settings beyond the defaults: {args.ppo or 'none'})",
        "",
        "| method | accuracy (%) |",
        "| --- | --- |",
    ]
    lines += [f"| {m} | {100 * r['mean']:.1f} ± {100 * r['std']:.1f} |" for m, r in results.items()]
    (args.out / "table2.md").write_text("\n".join(lines) + "\n")
    (args.out / "rl.json").write_text(
        json.dumps(
            {
                **results,
                "minutes": (time.perf_counter() - started) / 60,
                "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    print("\n".join(lines) + f"\nwrote {args.out / 'rl.json'} in {(time.perf_counter() - started) / 60:.1f} min")
    return results


if __name__ == "__main__":
    main()
