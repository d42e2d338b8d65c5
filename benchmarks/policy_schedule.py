"""How the miniature's policy depends on its generator seed and on where its schedule branches, on the dev split.

    python -m benchmarks.policy_schedule [--seeds 0-2] [--schedules 200+100,200+200,250+100,300+100,450+100]
                                         [--problems 500] [--samples 16] [--out out/benchmarks/policy_schedule]

The demo's policy config (:data:`verikit_arith.training.PRESET_CONFIGS`) is ``200+100``: the completer's run to step
200 at the constant rate, then its own 100 steps of decay; the policy ``arith:arith-easy/policy`` is the first of
``200+100``, ``300+100``, ``450+100`` that reaches 35% greedy accuracy on dev (:mod:`verikit_arith.policy`, chosen
from this benchmark's figures). ``STABLE+DECAY`` trains the
same policy branched at step ``STABLE`` of that run with ``DECAY`` steps of decay, at each generator seed (cached
like every generator, continuing from the run's saved trunk). Each is then scored on the dev split: greedy accuracy,
majority vote and pass@n over ``--samples`` samples (temperature 1), the share of samples with the right answer,
and the share of those right answers reached **through a wrong step** (the arith domain's exact labeller,
:func:`verikit_arith.labeller.step_correctness`) — a policy that writes the answer it has in mind and bends its
steps to meet it, which no judge of the steps can credit (``benchmarks.process_outcome``). It answers "is this seed's
policy the demo's kind of policy?": issue 35 met its outcome-graded bar at seed 0 only, and seeds 1 and 2 learn
later. (Greedy accuracy here is what :func:`verikit_arith.policy.dev_greedy_accuracy` measures.) Every row names
its model's folder, for ``verikit reproduce --set models.policy=…``.

``--tiny`` shrinks the model to a plumbing check (one small layer, 4 solutions a step). Writes
``policy_schedule.json`` and ``policy_schedule.md``; a row's model is trained once and reused after.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from benchmarks.annotation_draws import parse_seeds

CONFIG_SCHEDULE = "200+100"
TINY = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64, "batch_size": 4}


def parse_schedule(text: str) -> tuple[int, int]:
    """``"200+100"`` as (stable steps, decay steps)."""
    stable, plus, decay = text.strip().partition("+")
    if not (plus and stable.isdigit() and decay.isdigit() and int(decay) > 0):
        raise SystemExit(f"--schedules: {text!r} is not STABLE+DECAY, e.g. 200+100")
    return int(stable), int(decay)


def policy_config(seed: int, stable: int, decay: int, tiny: bool = False):
    """The demo's arith-easy policy config at ``seed``, branched at step ``stable`` with ``decay`` steps of decay."""
    from verikit_arith.training import default_config

    demo = default_config("arith-easy", "policy")
    smaller = {**TINY, "warmup_steps": min(demo.warmup_steps, stable)} if tiny else {}
    return dataclasses.replace(demo, seed=seed, max_steps=stable + decay, decay_steps=decay, **smaller)


def measure_policy(model: Path, problems: list, samples: int) -> dict:
    """Greedy (as the policy's choice measures it, :func:`verikit_arith.policy.dev_greedy_accuracy`), maj@n, pass@n,
    the right samples' share and the share of right answers through a wrong step."""
    import verikit
    from verikit.format import readable_steps
    from verikit_arith.checker import ArithChecker
    from verikit_arith.evaluation import MAX_NEW_TOKENS, judge_samples
    from verikit_arith.labeller import step_correctness
    from verikit_arith.policy import dev_greedy_accuracy
    from verikit_arith.problems import prompt_text

    completer = verikit.completer(
        "transformers", model=str(model), batch_size=512, max_new_tokens=MAX_NEW_TOKENS["arith-easy"]
    )
    checker, splitter = ArithChecker(), verikit.step_splitter("lines")
    sampled = completer.complete([prompt_text(p) for p in problems], n=samples, temperature=1.0, seed=1)
    judged = judge_samples(problems, sampled, checker)
    majority_right = sum(majority for _, majority in judged)
    any_right = sum(any(verdicts) for verdicts, _ in judged)
    right = bent = 0
    for problem, texts, (verdicts, _) in zip(problems, sampled, judged, strict=True):
        for text, verdict in zip(texts, verdicts, strict=True):
            if verdict:
                right += 1
                steps = readable_steps(splitter, text)
                bent += not (steps and all(step_correctness(problem, steps)))
    count = len(problems)
    return {
        "greedy": round(100 * dev_greedy_accuracy(model, "arith-easy", limit=count), 1),
        "maj_at_n": round(100 * majority_right / count, 1),
        "pass_at_n": round(100 * any_right / count, 1),
        "right_samples": round(100 * right / (count * samples), 1),
        "right_through_a_wrong_step": round(100 * bent / right, 1) if right else None,
    }


def markdown(rows: list[dict], problems: int, samples: int) -> str:
    lines = [
        f"# The policy by generator seed and schedule (arith-easy dev, {problems} problems, {samples} samples)\n",
        "| schedule | seed | greedy | maj@n | pass@n | right samples | right answers through a wrong step | trained |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        demo = " (the config's)" if r["schedule"] == CONFIG_SCHEDULE else ""
        lines.append(
            f"| {r['schedule']}{demo} | {r['seed']} | {r['greedy']} | {r['maj_at_n']} | {r['pass_at_n']} | "
            f"{r['right_samples']} | {r['right_through_a_wrong_step']} | {r['train_seconds']} s |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.policy_schedule",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", default="0-2", help="Generator seeds: 0-2, 0,3 or 0-4,7.")
    parser.add_argument("--schedules", default="200+100,200+200,250+100,300+100,450+100", help="STABLE+DECAY, ...")
    parser.add_argument("--problems", type=int, default=500, help="Dev problems scored (the split has 500).")
    parser.add_argument("--samples", type=int, default=16, help="Samples per problem for maj@n and pass@n.")
    parser.add_argument("--tiny", action="store_true", help="A tiny model: a plumbing check, not a measurement.")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/policy_schedule"))
    args = parser.parse_args(argv)
    from tqdm import tqdm

    from verikit_arith.problems import load_split
    from verikit_arith.training import train_generator

    schedules = [parse_schedule(s) for s in args.schedules.split(",")]
    problems = load_split("arith-easy", "dev", limit=args.problems)
    rows = []
    for seed, (stable, decay) in tqdm(
        [(seed, schedule) for seed in parse_seeds(args.seeds) for schedule in schedules], desc="policies", unit="policy"
    ):
        started = time.perf_counter()
        model = train_generator(config=policy_config(seed, stable, decay, args.tiny), progress=False)
        train_seconds = json.loads((model / "verikit_generator.json").read_text())["train_seconds"]
        rows.append(
            {
                "schedule": f"{stable}+{decay}",
                "seed": seed,
                **measure_policy(model, problems, args.samples),
                "train_seconds": train_seconds,
                "seconds": round(time.perf_counter() - started, 1),
                "model": str(model),
            }
        )
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"split": "dev", "problems": len(problems), "samples": args.samples, "tiny": args.tiny, "rows": rows}
    (args.out / "policy_schedule.json").write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(rows, len(problems), args.samples)
    (args.out / "policy_schedule.md").write_text(text)
    print(text)
    return result


if __name__ == "__main__":
    main()
