"""The miniature reproduction of the paper's Table 1 over several sampling seeds, and PRM-guided beam search
against best-of-N at an equal token budget.

    python -m benchmarks.arith --demo out/demo [--preset arith-easy] [--seeds 0,1,2] [--beam-problems 200]

``--demo``: a folder written by ``verikit demo`` (its reward models and settings are reused). For each seed
the pipeline's sample, score and select stages run on the demo's recipe with that sampling seed (the demo's own
seed reuses its samples and scores) and the table is recomputed; the markdown table gives
mean ± standard deviation over seeds, with the per-seed 95% intervals in the JSON. Beam search (width W,
M expansions per beam, the PRM scoring partial solutions) runs on the first ``--beam-problems`` test
problems; best-of-N is read at the N whose generated tokens match the search's (on seed 0's samples).
Writes ``OUT/table1.md`` and ``OUT/arith.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

import verikit

REWARD_MODELS = ("orm", "prm", "likelihood-prm")  # the arith recipe's, in its order


def beam_vs_best_of_n(
    preset: str,
    recipe,
    policy: str,
    models: Path,
    samples: list,
    entries: list,
    problems: int,
    width: int,
    expansions: int,
) -> dict:
    """``samples``/``entries``: one seed's sampled texts and their scored entries (from the pipeline's files);
    best-of-N is read from them, on the same first ``problems`` test problems the search runs on."""
    from verikit.beam import step_beam_search
    from verikit.bon import bon_curves
    from verikit.components import load_scorer

    stage = recipe.sample
    tests = verikit.load_dataset(preset, split="test", limit=problems)
    domain = verikit.domain(tests[0].domain)
    checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
    completer = verikit.completer("transformers", model=policy, max_new_tokens=stage.max_new_tokens)
    samples, entries = samples[:problems], entries[:problems]
    tokens_per_sample = statistics.mean(
        len(completer.tokenizer(t, add_special_tokens=False)["input_ids"]) for texts in samples for t in texts
    )
    result = {
        "problems": problems,
        "beam_width": width,
        "expansions": expansions,
        "tokens_per_sample": tokens_per_sample,
    }
    for name in ("likelihood-prm", "prm"):
        scorer = load_scorer(models / name)
        started = time.perf_counter()
        found = step_beam_search(
            [p.question for p in tests],
            [domain.prompt(p) for p in tests],
            completer,
            scorer,
            splitter,
            beam_width=width,
            expansions=expansions,
            temperature=stage.temperature,
            seed=stage.seed,
        )
        seconds = time.perf_counter() - started
        beam_acc = sum(
            r.text is not None and checker.is_correct(r.text, p.gold_answer) for r, p in zip(found, tests)
        ) / len(tests)
        beam_tokens = statistics.mean(r.tokens for r in found)
        equal_n = max(1, min(stage.samples, round(beam_tokens / tokens_per_sample)))
        curves = bon_curves(
            entries,
            {"bon": ("best-of-n", name), "sc": ("self-consistency", None)},
            [equal_n],
            repeats=recipe.select.repeats,
            seed=stage.seed,
        )
        result[name] = {
            "beam_acc": beam_acc,
            "beam_tokens_per_problem": beam_tokens,
            "beam_seconds": seconds,
            "equal_token_n": equal_n,
            "best_of_n_acc": curves["bon"][equal_n]["acc"],
            "best_of_n_ci": [curves["bon"][equal_n]["ci_low"], curves["bon"][equal_n]["ci_high"]],
            "self_consistency_acc": curves["sc"][equal_n]["acc"],
        }
        print(
            f"beam search ({name}, W={width}, M={expansions}) on {problems} test problems: {100 * beam_acc:.1f}% with "
            f"{beam_tokens:.0f} tokens/problem; best-of-{equal_n} with the same PRM at equal tokens "
            f"{100 * result[name]['best_of_n_acc']:.1f}%, SC@{equal_n} "
            f"{100 * result[name]['self_consistency_acc']:.1f}%"
        )
    return result


def seed_run(
    preset: str, overrides: list[str], models: Path, seed: int, demo_folder: Path, folder: Path, demo_seed: int
):
    """The sample, score and select stages of the demo's recipe at sampling ``seed`` into ``folder``."""
    from verikit.pipeline import reproduce
    from verikit.pipeline.recipe import load_recipe
    from verikit.pipeline.stages.select import scored_entries
    from verikit.pipeline.workspace import Workspace

    sets = [
        *overrides,
        f"sample.seed={seed}",
        f"select.seed={seed}",
        *(f"reward_models.{i}.path={models / name}" for i, name in enumerate(REWARD_MODELS)),
    ]
    if seed == demo_seed:  # the demo's own samples and scores serve the seed they were drawn with
        for part in ("samples", "scores"):
            if (demo_folder / part).exists() and not (folder / part).exists():
                shutil.copytree(demo_folder / part, folder / part)
    report = reproduce(preset, folder, stages=["sample", "score", "select"], overrides=sets)
    recipe, _ = load_recipe(preset, sets)
    ws = Workspace(recipe, folder)
    ws.load_models()
    _, _, samples, entries, _ = scored_entries(ws, recipe.sample.datasets[0])
    return recipe, report, samples, entries


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, required=True, help="A `verikit demo` output folder.")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--beam-problems", type=int, default=200)
    parser.add_argument("--beam-width", type=int, default=4)
    parser.add_argument("--expansions", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/arith"))
    args = parser.parse_args(argv)
    details = json.loads((args.demo / "details.json").read_text())
    overrides = details["overrides"]
    models = args.demo / args.preset / "reward_models"
    policy = details[args.preset]["policy"]
    args.out.mkdir(parents=True, exist_ok=True)
    from verikit.pipeline.recipe import load_recipe

    base, _ = load_recipe(args.preset, overrides)
    runs = {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        runs[seed] = seed_run(
            args.preset, overrides, models, seed, args.demo / args.preset, args.out / f"seed-{seed}", base.sample.seed
        )
    per_seed = {seed: next(iter(report["best_of_n"].values())) for seed, (_, report, _, _) in runs.items()}
    methods = list(per_seed[next(iter(per_seed))])
    summary = {
        m: {
            "mean": statistics.mean(t[m]["acc"] for t in per_seed.values()),
            "std": statistics.pstdev(t[m]["acc"] for t in per_seed.values()),
            "seeds": {s: t[m] for s, t in per_seed.items()},
        }
        for m in methods
    }
    first = next(iter(runs))
    recipe, _, samples, entries = runs[first]
    beam = beam_vs_best_of_n(
        args.preset, recipe, policy, models, samples, entries, args.beam_problems, args.beam_width, args.expansions
    )
    lines = [
        f"Table 1 on the miniature ({args.preset}, {base.sample.datasets[0].limit} test problems, "
        f"N={base.sample.samples}, "
        f"T={base.sample.temperature}; mean ± sd over sampling seeds {args.seeds})",
        "",
        "| method | accuracy (%) |",
        "| --- | --- |",
    ]
    names = {"pass@n": f"pass@{base.sample.samples}", **{m: m for m in methods}}
    for method in methods:
        lines.append(f"| {names[method]} | {100 * summary[method]['mean']:.1f} ± {100 * summary[method]['std']:.1f} |")
    lines += [
        "",
        f"Beam search (W={args.beam_width}, M={args.expansions}) vs best-of-N at equal generated tokens "
        f"({args.beam_problems} test problems):",
        "",
        "| PRM | beam search | tokens/problem | best-of-N at equal tokens | N |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in ("likelihood-prm", "prm"):
        row = beam[name]
        lines.append(
            f"| {name} | {100 * row['beam_acc']:.1f} | {row['beam_tokens_per_problem']:.0f} | "
            f"{100 * row['best_of_n_acc']:.1f} | {row['equal_token_n']} |"
        )
    markdown = "\n".join(lines) + "\n"
    (args.out / "table1.md").write_text(markdown)
    result = {
        "table": summary,
        "beam_search": beam,
        "settings": vars(args) | {"demo": str(args.demo), "out": str(args.out)},
    }
    (args.out / "arith.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print("\n" + markdown + f"wrote {args.out / 'table1.md'} and {args.out / 'arith.json'}")
    return result


if __name__ == "__main__":
    main()
