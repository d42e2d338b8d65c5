"""The miniature reproduction of the paper's Table 1 over several sampling seeds, and PRM-guided beam search
against best-of-N at an equal token budget.

    python -m benchmarks.arith --demo out/demo [--preset arith-easy] [--seeds 0,1,2] [--beam-problems 200]

``--demo``: a folder written by ``verikit demo`` (its reward models and settings are reused). For each seed
the policy samples N solutions per test problem anew and the table is recomputed; the markdown table gives
mean ± standard deviation over seeds, with the per-seed 95% intervals in the JSON. Beam search (width W,
M expansions per beam, the PRM scoring partial solutions) runs on the first ``--beam-problems`` test
problems; best-of-N is read at the N whose generated tokens match the search's (on seed 0's samples).
Writes ``OUT/table1.md`` and ``OUT/arith.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import verikit

from verikit_arith.demo import DemoSettings, best_of_n_table, sample_test_problems


def beam_vs_best_of_n(preset: str, settings: DemoSettings, policy: str, models: Path, samples: list, entries: list,
                      problems: int, width: int, expansions: int) -> dict:
    """``samples``/``entries``: one seed's sampled texts and their scored entries (from ``best_of_n_table``);
    best-of-N is read from them, on the same first ``problems`` test problems the search runs on."""
    from verikit.beam import step_beam_search
    from verikit.bon import bon_curves
    from verikit.components import load_scorer
    from verikit_arith.evaluation import MAX_NEW_TOKENS

    tests = verikit.load_dataset(preset, split="test", limit=problems)
    domain = verikit.domain(tests[0].domain)
    checker, splitter = verikit.answer_checker(domain.answer_checker), verikit.step_splitter(domain.step_splitter)
    completer = verikit.completer("transformers", model=policy, max_new_tokens=MAX_NEW_TOKENS.get(preset, 320))
    samples, entries = samples[:problems], entries[:problems]
    tokens_per_sample = statistics.mean(len(completer.tokenizer(t, add_special_tokens=False)["input_ids"])
                                        for texts in samples for t in texts)
    result = {"problems": problems, "beam_width": width, "expansions": expansions, "tokens_per_sample": tokens_per_sample}
    for name in ("likelihood-prm", "prm"):
        scorer = load_scorer(models / name)
        started = time.perf_counter()
        found = step_beam_search([p.question for p in tests], [domain.prompt(p) for p in tests], completer, scorer, splitter,
                                 beam_width=width, expansions=expansions, temperature=settings.temperature, seed=settings.seed)
        seconds = time.perf_counter() - started
        beam_acc = sum(r.text is not None and checker.is_correct(r.text, p.gold_answer) for r, p in zip(found, tests)) / len(tests)
        beam_tokens = statistics.mean(r.tokens for r in found)
        equal_n = max(1, min(settings.samples, round(beam_tokens / tokens_per_sample)))
        curves = bon_curves(entries, {"bon": ("best-of-n", name), "sc": ("self-consistency", None)}, [equal_n],
                            repeats=settings.repeats, seed=settings.seed)
        result[name] = {"beam_acc": beam_acc, "beam_tokens_per_problem": beam_tokens, "beam_seconds": seconds,
                        "equal_token_n": equal_n, "best_of_n_acc": curves["bon"][equal_n]["acc"],
                        "best_of_n_ci": [curves["bon"][equal_n]["ci_low"], curves["bon"][equal_n]["ci_high"]],
                        "self_consistency_acc": curves["sc"][equal_n]["acc"]}
        print(f"beam search ({name}, W={width}, M={expansions}) on {problems} test problems: {100 * beam_acc:.1f}% with "
              f"{beam_tokens:.0f} tokens/problem; best-of-{equal_n} with the same PRM at equal tokens "
              f"{100 * result[name]['best_of_n_acc']:.1f}%, SC@{equal_n} {100 * result[name]['self_consistency_acc']:.1f}%")
    return result


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
    base = DemoSettings(**details["settings"])
    models = args.demo / args.preset
    policy = details[args.preset]["policy"]
    args.out.mkdir(parents=True, exist_ok=True)
    tables = {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        settings = replace(base, seed=seed)
        folder = args.out / f"seed-{seed}"
        folder.mkdir(exist_ok=True)
        if seed == base.seed:  # the demo's own samples and their scores serve the seed they were drawn with
            for cached in [models / "samples.json", *models.glob("scores-*.json")]:
                if cached.exists() and not (folder / cached.name).exists():
                    (folder / cached.name).write_bytes(cached.read_bytes())
        data = sample_test_problems(args.preset, settings, Path(policy), folder / "samples.json")
        tables[seed] = {**best_of_n_table(args.preset, settings, data, models, folder), "samples": data["samples"]}
    per_seed = {seed: t["table"] for seed, t in tables.items()}
    methods = list(per_seed[next(iter(per_seed))])
    summary = {m: {"mean": statistics.mean(t[m]["acc"] for t in per_seed.values()),
                   "std": statistics.pstdev(t[m]["acc"] for t in per_seed.values()),
                   "seeds": {s: t[m] for s, t in per_seed.items()}} for m in methods}
    first = next(iter(tables))
    beam = beam_vs_best_of_n(args.preset, base, policy, models, tables[first]["samples"], tables[first]["entries"],
                             args.beam_problems, args.beam_width, args.expansions)
    lines = [f"Table 1 on the miniature ({args.preset}, {base.test_problems} test problems, N={base.samples}, "
             f"T={base.temperature}; mean ± sd over sampling seeds {args.seeds})", "",
             "| method | accuracy (%) |", "| --- | --- |"]
    names = {"pass@n": f"pass@{base.samples}", **{m: m for m in methods}}
    for method in methods:
        lines.append(f"| {names[method]} | {100 * summary[method]['mean']:.1f} ± {100 * summary[method]['std']:.1f} |")
    lines += ["", f"Beam search (W={args.beam_width}, M={args.expansions}) vs best-of-N at equal generated tokens "
              f"({args.beam_problems} test problems):", "", "| PRM | beam search | tokens/problem | best-of-N at equal tokens | N |",
              "| --- | --- | --- | --- | --- |"]
    for name in ("likelihood-prm", "prm"):
        row = beam[name]
        lines.append(f"| {name} | {100 * row['beam_acc']:.1f} | {row['beam_tokens_per_problem']:.0f} | "
                     f"{100 * row['best_of_n_acc']:.1f} | {row['equal_token_n']} |")
    markdown = "\n".join(lines) + "\n"
    (args.out / "table1.md").write_text(markdown)
    result = {"table": summary, "beam_search": beam, "settings": vars(args) | {"demo": str(args.demo), "out": str(args.out)}}
    (args.out / "arith.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print("\n" + markdown + f"wrote {args.out / 'table1.md'} and {args.out / 'arith.json'}")
    return result


if __name__ == "__main__":
    main()
