"""Does a reward model see whether a step is right? Correct steps against edited ones, at every position.

    python -m benchmarks.contrastive_probe --run out/demo/arith-easy [--split test] [--problems 500]
        [--models NAME=PATH,...] [--out DIR]

For each problem of the split, each step of its reference solution is made wrong in every way the domain knows
(:mod:`verikit_arith.edits`: result off by one, off by more, wrong operand, wrong operator, out-of-order step,
wrong final answer; each confirmed wrong by the exact labeller). A reward model scores the correct prefix and the
edited one; since the two differ only in the last step, which a causal model scores from its prefix alone, the
model "sees" the step when it scores the correct one higher. Reported per model: the share of pairs ordered
right (ties count half) overall, by position (step 1, 2, …) and by kind, and the mean P(+) of correct and edited
steps. The test split is the default: choose anything on ``--split dev``.

Every reward model of the run (``RUN/reward_models/*``) is probed unless ``--models`` names others. Writes
``probe.json``, ``probe.md`` and ``probe.png`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def score_pairs(scorer, pairs) -> list[tuple[float, float]]:
    """``(P(+) of the correct step, P(+) of the edited one)`` per pair, each prefix read once."""
    from verikit.rm.scorer import score_unique

    questions = [p.question for p in pairs] * 2
    prefixes = [list(p.good) for p in pairs] + [list(p.bad) for p in pairs]
    scores = score_unique(scorer, questions, prefixes)
    return [(scores[i][-1], scores[len(pairs) + i][-1]) for i in range(len(pairs))]


def ordering(pairs, scored) -> dict:
    """Share of pairs scored right (ties half) overall, ``position_<k>`` and ``kind_<kind>``; mean P(+) both sides."""
    groups: dict[str, list[float]] = {}
    for pair, (good, bad) in zip(pairs, scored, strict=True):
        win = 1.0 if good > bad else 0.5 if good == bad else 0.0
        for key in ("all", f"position_{pair.position}", f"kind_{pair.kind}"):
            groups.setdefault(key, []).append(win)
    result = {key: {"ordered": round(sum(v) / len(v), 4), "pairs": len(v)} for key, v in sorted(groups.items())}
    result["mean_p_good"] = round(sum(g for g, _ in scored) / len(scored), 4)
    result["mean_p_edited"] = round(sum(b for _, b in scored) / len(scored), 4)
    return result


def run_models(run: Path) -> dict[str, str]:
    """Every reward model a pipeline run trained or used, by name."""
    folder = run / "reward_models"
    return (
        {path.name: str(path) for path in sorted(folder.iterdir()) if (path / "verikit_rm.json").exists()}
        if folder.is_dir()
        else {}
    )


def write_outputs(results: dict, out: Path, title: str, stem: str = "probe") -> None:
    """``STEM.json``, ``STEM.md`` (a row per model: all, by position, by kind) and ``STEM.png`` (by position)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n")
    models = results["models"]
    keys = sorted(
        {k for r in models.values() for k in r if k.startswith(("position_", "kind_"))},
        key=lambda k: (not k.startswith("position"), k),
    )
    lines = [
        f"# {title}",
        "",
        "| model | all | " + " | ".join(k.replace("_", " ") for k in keys) + " | P(+) correct / edited |",
        "| --- " * (len(keys) + 3) + "|",
    ]
    for name, r in models.items():
        cells = " | ".join(f"{r[k]['ordered']:.3f}" if k in r else "" for k in keys)
        lines.append(
            f"| {name} | {r['all']['ordered']:.3f} | {cells} | {r['mean_p_good']:.3f} / {r['mean_p_edited']:.3f} |"
        )
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = [k for k in keys if k.startswith("position_")]
    figure, axis = plt.subplots(figsize=(7, 4))
    for name, r in models.items():
        axis.plot(
            [int(k.split("_")[1]) for k in positions], [r[k]["ordered"] for k in positions], marker="o", label=name
        )
    axis.axhline(0.5, color="grey", linestyle=":", label="chance")
    axis.axhline(0.9, color="grey", linestyle="--", linewidth=0.8)
    axis.set(xlabel="step position", ylabel="correct step scored above edited", ylim=(0, 1.02), title=title)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / f"{stem}.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="A pipeline run's folder (the demo's: out/demo/arith-easy).")
    parser.add_argument("--models", default="", help="NAME=PATH,… instead of (or beside) the run's reward models.")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0, help="Which edits are drawn.")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/contrastive_probe"))
    args = parser.parse_args(argv)
    import verikit
    from verikit_arith.edits import probe_pairs

    models = run_models(args.run) if args.run else {}
    models.update(dict(item.split("=", 1) for item in args.models.split(",") if item))
    if not models:
        parser.error("no reward models: give --run with trained reward models, or --models NAME=PATH")
    pairs = probe_pairs(args.preset, args.split, limit=args.problems, seed=args.seed)
    results = {
        "preset": args.preset,
        "split": args.split,
        "problems": args.problems,
        "seed": args.seed,
        "pairs": len(pairs),
        "models": {},
        "paths": models,
    }
    for name, path in models.items():
        started = time.perf_counter()
        scorer = verikit.scorer(path)
        results["models"][name] = ordering(pairs, score_pairs(scorer, pairs))
        row = results["models"][name]
        positions = "  ".join(
            f"{k.split('_')[1]}:{v['ordered']:.2f}" for k, v in row.items() if k.startswith("position_")
        )
        print(
            f"{name:<16} all {row['all']['ordered']:.3f}  by position {positions}  "
            f"({time.perf_counter() - started:.0f}s)",
            flush=True,
        )
    write_outputs(results, args.out, f"contrastive probe: {args.preset} {args.split}, {len(pairs)} pairs")
    print(f"wrote {args.out / 'probe.json'}, probe.md, probe.png")
    return results


if __name__ == "__main__":
    main()
