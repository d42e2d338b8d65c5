"""How far the demo's table moves with the annotation's random draw alone, on this code and on another revision's.

    python -m benchmarks.annotation_draws [--recipe arith-easy] [--seeds 0-9] [--baseline b4062df]
                                          [--out out/benchmarks/annotation_draws] [--smoke]
    python -m benchmarks.annotation_draws --vary generator --seeds 0-2 --out out/benchmarks/generator_draws

``--vary generator`` draws the miniature's generators instead: seed ``S`` trains the policy and the completer at
seed ``S`` (``arith:PRESET/policy?seed=S``, data stream and initialisation) and runs the whole recipe on them, the
annotation's seed fixed: the spread a new user should expect from the demo's table, since other machines train
other generators at one seed where their CPUs round differently (docs/miniature.md).

On the arith recipes the current side's draws carry the demo's ``verifier-PRM`` row too, as ``verikit demo`` does
(``--no-verifier-prm`` leaves it out): the paper's tag head from the verifier base made from the draw's completer
(``arith:PRESET/verifier?seed=S`` under ``--vary generator``, the seed-0 base under ``--vary annotation``). A
``--baseline`` side runs its own revision's recipe, without the row.

A table built on Monte Carlo labels is one draw of them: change the annotation's seed and the reward models
are trained on other labels. This benchmark runs ``verikit reproduce --recipe R --set annotate.seed=S`` for each
seed ``S``, in a subprocess each, on the current code and, with ``--baseline REV``, on git revision ``REV``'s code
(extracted with ``git archive``; its tree and its plugins first on ``PYTHONPATH``), and compares the two sides
row by row: each side's per-seed figures, their mean and standard deviation, the difference of the means and a
two-sided permutation test of it (``scipy.stats.permutation_test``: exact while the splits number at most
100,000, else 100,000 random ones), with Holm's adjustment over the rows tested. Beside the table, each draw's
annotation: agreement of its labels with gold (where the domain has gold steps), the share of correct
solutions and of ``+`` steps. It answers "did a change that redraws the labels make the table worse, or is that
the draw?" — the question the demo's table cannot answer from one seed.

Resumable and safe to kill: a draw whose ``report.json`` exists is not run again, an unfinished one resumes
(the pipeline's stages are resumable), and the sample stage, which does not depend on the annotation's seed, is
copied from the side's first finished draw instead of sampled again. Each draw records the revision it ran on
(``draw.json``; the current side's commit, and whether the work tree differed from it). Run one benchmark at a
time: the figures do not depend on the machine's load, but the ORM's do on torch's thread count (left at its
default). Each draw of the arith-easy demo takes about 4 minutes on 2 cores, and a generator seed's first draw
about 7 more for its verifier base (cached after). Writes
``OUT/annotation_draws.json``, ``OUT/annotation_draws.md`` and ``OUT/annotation_draws.png``; the draws
themselves under ``OUT/draws/<side>/seed<S>/`` (logs in ``OUT/logs``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS = (
    "greedy",
    "self-consistency",
    "orm",
    "sc+orm",
    "prm",
    "sc+prm",
    "likelihood-prm",
    "sc+likelihood-prm",
    "verifier-prm",
    "sc+verifier-prm",
    "pass@n",
)
PERMUTATIONS = 100_000  #: the permutation test is exact up to this many splits, Monte Carlo beyond


def parse_seeds(text: str) -> list[int]:
    """``"0-9"``, ``"0,2,5"`` or a mix (``"0-4,7"``) as a sorted list of distinct seeds."""
    seeds: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        try:
            seeds.update(range(int(first), int(last or first) + 1))
        except ValueError:
            raise SystemExit(f"--seeds: {part!r} is not a seed or a range like 0-9") from None
    if not seeds:
        raise SystemExit("--seeds: no seed given")
    return sorted(seeds)


def _git(*args: str) -> str:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def current_revision() -> dict:
    """This checkout's commit and whether its work tree differs from it (a draw is then not of that commit)."""
    return {
        "revision": _git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def verifier_prm_applies(recipe: str) -> bool:
    """Whether ``recipe`` is one of the arith presets, whose demo adds the verifier-PRM row."""
    try:
        from verikit_arith.presets import PRESETS
    except ImportError:
        return False
    return Path(recipe).stem in PRESETS


def draw_overrides(vary: str, seed: int, recipe: str, verifier_prm: bool = False) -> list[str]:
    """The recipe overrides of draw ``seed``: the annotation's seed, or the miniature's generators' seed; with
    ``verifier_prm``, the demo's verifier-PRM row (``verikit demo`` adds it), its base made from the draw's
    completer."""
    preset = Path(recipe).stem
    if vary == "annotation":
        sets = [f"annotate.seed={seed}"]
    else:
        policy, completer = f"arith:{preset}/policy?seed={seed}", f"arith:{preset}/completer?seed={seed}"
        sets = [
            f"models.generator={policy}",
            f"models.policy={policy}",
            f"models.completer={completer}",
            f"models.reward_model_base={completer}",
        ]
    if verifier_prm:
        from verikit_arith.demo import verifier_prm_overrides

        sets += verifier_prm_overrides(preset, seed=seed if vary == "generator" else 0)
    return sets


def run_draw(
    folder: Path,
    seed: int,
    recipe: str,
    smoke: bool,
    log: Path,
    tree: Path | None,
    revision: dict,
    vary: str = "annotation",
    verifier_prm: bool = False,
) -> None:
    """One ``verikit reproduce`` of draw ``seed`` into ``folder`` (resumed if begun), on ``tree``'s code (``None``: the
    installed, current code). Raises SystemExit naming the log when it fails."""
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "draw.json"
    begun_on = json.loads(record.read_text())["revision"] if record.exists() else revision["revision"]
    if begun_on != revision["revision"]:
        raise SystemExit(
            f"{folder}: an unfinished draw begun on revision {begun_on}, not {revision['revision']}; "
            f"delete the folder to draw this seed again on this code"
        )
    record.write_text(json.dumps({"seed": seed, **revision}) + "\n")
    command = [str(Path(sys.executable).with_name("verikit")), "reproduce", "--recipe", recipe, "--out", str(folder)]
    overrides = draw_overrides(vary, seed, recipe, verifier_prm)
    command += [part for override in overrides for part in ("--set", override)]
    command += ["--smoke"] if smoke else []
    env = dict(os.environ)
    if tree is not None:
        from benchmarks.annotation_throughput import revision_pythonpath

        env["PYTHONPATH"] = revision_pythonpath(tree)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as handle:
        done = subprocess.run(
            command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=tree or Path.cwd(), check=False
        )
    if done.returncode != 0 or not (folder / "report.json").exists():
        tail = log.read_text(errors="replace")[-2000:]
        raise SystemExit(f"draw seed {seed} in {folder} failed (exit {done.returncode}); its log {log} ends:\n{tail}")


def draw_figures(folder: Path) -> dict:
    """A finished draw's best-of-N rows (percent) by dataset, and its annotation's statistics by dataset."""
    from verikit.annotation.storage import load_records
    from verikit.records import is_labelled

    report = json.loads((folder / "report.json").read_text())
    rows = {
        dataset: {row: round(100 * table[row]["acc"], 1) for row in ROWS if row in table}
        for dataset, table in report["best_of_n"].items()
    }
    annotate = json.loads((folder / "stages" / "annotate.json").read_text())["result"]
    annotation = {}
    for name, summary in annotate.items():
        records = [r for r in load_records(folder / "annotations" / name) if is_labelled(r)]
        steps = [label for r in records for label in r["hard_labels"]]
        quality = summary.get("label_quality") or {}
        annotation[name] = {
            "labels_agreeing_with_gold": None if "accuracy" not in quality else round(100 * quality["accuracy"], 1),
            "correct_solutions": round(100 * sum(bool(r["final_correct"]) for r in records) / max(1, len(records)), 1),
            "positive_steps": round(100 * sum(steps) / max(1, len(steps)), 1),
        }
    return {"best_of_n": rows, "annotation": annotation}


def permutation_p(first: list[float], second: list[float]) -> float | None:
    """Two-sided permutation test of the difference of the two means (``None`` with fewer than two a side)."""
    if len(first) < 2 or len(second) < 2:
        return None
    if len(set(first + second)) == 1:
        return 1.0
    from scipy.stats import permutation_test

    def difference(x, y, axis):
        return x.mean(axis=axis) - y.mean(axis=axis)

    exact = math.comb(len(first) + len(second), len(first)) <= PERMUTATIONS
    result = permutation_test(
        (first, second),
        difference,
        permutation_type="independent",
        vectorized=True,
        alternative="two-sided",
        n_resamples=math.inf if exact else PERMUTATIONS,
        random_state=0,
    )
    return float(result.pvalue)


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm's step-down adjustment of a family of p-values (each row one test)."""
    ordered = sorted(pvalues.items(), key=lambda item: item[1])
    adjusted, running = {}, 0.0
    for rank, (name, p) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - rank) * p))
        adjusted[name] = running
    return adjusted


def compare(sides: dict[str, dict[int, dict]]) -> dict:
    """Per dataset and row: each side's per-seed values, mean and sd; with two sides, the difference and its test."""
    names = list(sides)
    datasets = sorted({d for draws in sides.values() for figures in draws.values() for d in figures["best_of_n"]})
    result = {}
    for dataset in datasets:
        rows = {}
        for row in ROWS:
            entry = {}
            for side in names:
                values = {
                    seed: f["best_of_n"][dataset][row]
                    for seed, f in sorted(sides[side].items())
                    if row in f["best_of_n"].get(dataset, {})
                }
                if values:
                    entry[side] = {
                        "values": values,
                        "mean": round(statistics.mean(values.values()), 2),
                        "sd": round(statistics.stdev(values.values()), 2) if len(values) > 1 else None,
                    }
            if not entry:
                continue
            if len(names) == 2 and all(side in entry for side in names):
                a, b = (list(entry[side]["values"].values()) for side in names)
                entry["difference"] = round(statistics.mean(a) - statistics.mean(b), 2)
                entry["p"] = permutation_p(a, b)
            rows[row] = entry
        tested = {row: e["p"] for row, e in rows.items() if e.get("p") is not None and e["difference"] != 0}
        for row, p in holm(tested).items():
            rows[row]["p_holm"] = p
        result[dataset] = rows
    return result


def markdown(comparison: dict, sides: dict[str, dict[int, dict]], labels: dict[str, str]) -> str:
    lines = []
    names = list(sides)
    for dataset, rows in comparison.items():
        lines.append(f"### {dataset}\n")
        header = ["row"] + [f"{labels[s]}: mean (sd), n" for s in names]
        if len(names) == 2:
            header += ["difference", "p", "p (Holm)"]
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for row, entry in rows.items():
            cells = [row]
            for side in names:
                e = entry.get(side)
                cells.append(
                    ""
                    if e is None
                    else f"{e['mean']:.1f} ({e['sd'] if e['sd'] is not None else '-'}), {len(e['values'])}"
                )
            if len(names) == 2:
                p, holm_p = entry.get("p"), entry.get("p_holm")
                cells += [
                    f"{entry['difference']:+.2f}" if "difference" in entry else "",
                    "" if p is None else f"{p:.3f}",
                    "" if holm_p is None else f"{holm_p:.3f}",
                ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(
        "Per draw (seed: figures in the row order above, then the annotation's agreement with gold, correct "
        "solutions and `+` steps, %):\n"
    )
    for side in names:
        lines.append(f"- {labels[side]}:")
        for seed, figures in sorted(sides[side].items()):
            table = "; ".join(
                f"{d}: " + " ".join(f"{v:.1f}" for v in rows.values()) for d, rows in figures["best_of_n"].items()
            )
            stats = "; ".join(
                f"{a}: {s['labels_agreeing_with_gold']} / {s['correct_solutions']} / {s['positive_steps']}"
                for a, s in figures["annotation"].items()
            )
            lines.append(f"  - seed {seed}: {table} | {stats}")
    return "\n".join(lines) + "\n"


def plot(comparison: dict, labels: dict[str, str], path: Path) -> None:
    """One panel per dataset: each row's per-seed values, side by side, with the means marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(comparison)
    figure, axes = plt.subplots(len(datasets), 1, figsize=(10, 4.5 * len(datasets)), squeeze=False)
    for axis, dataset in zip(axes[:, 0], datasets):
        rows = list(comparison[dataset])
        for offset, (side, colour) in zip((-0.15, 0.15), zip(labels, ("tab:blue", "tab:orange"))):
            for x, row in enumerate(rows):
                entry = comparison[dataset][row].get(side)
                if entry is None:
                    continue
                values = list(entry["values"].values())
                axis.scatter(
                    [x + offset] * len(values),
                    values,
                    s=12,
                    alpha=0.6,
                    color=colour,
                    label=labels[side] if x == 0 else None,
                )
                axis.hlines(entry["mean"], x + offset - 0.12, x + offset + 0.12, color=colour, linewidth=2)
        axis.set_xticks(range(len(rows)), rows, rotation=30, ha="right")
        axis.set_ylabel("best-of-N accuracy (%)")
        axis.set_title(f"{dataset}: the table over annotation draws (one dot a seed, bars the means)")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.annotation_draws",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipe", default="arith-easy", help="A recipe name or file (default: the demo's).")
    parser.add_argument("--seeds", default="0-9", help="Seeds: 0-9, 0,3,5 or 0-4,7.")
    parser.add_argument(
        "--vary",
        choices=("annotation", "generator"),
        default="annotation",
        help=("What each seed draws: the annotation's labels, or the miniature's generators (arith recipes)."),
    )
    parser.add_argument(
        "--verifier-prm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=(
            "Add the demo's verifier-PRM row to this code's draws (default: on for arith recipes, as in `verikit "
            "demo`; its base takes about 7 CPU minutes once per generator seed). A --baseline side runs its own "
            "revision's recipe without it."
        ),
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="Also draw on git revision REV's code (e.g. b4062df, the code before per-sample seeds).",
    )
    parser.add_argument("--smoke", action="store_true", help="Pass --smoke to each reproduce (a plumbing check).")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/annotation_draws"))
    args = parser.parse_args(argv)
    from tqdm import tqdm

    from benchmarks.annotation_throughput import extract_revision

    seeds = parse_seeds(args.seeds)
    verifier_prm = verifier_prm_applies(args.recipe) if args.verifier_prm is None else args.verifier_prm
    if verifier_prm and not verifier_prm_applies(args.recipe):
        parser.error(f"--verifier-prm: the verifier base exists for the arith recipes only, not {args.recipe!r}")
    out = args.out.resolve()
    sides: dict[str, tuple[Path | None, dict]] = {"current": (None, current_revision())}
    scratch = Path(tempfile.mkdtemp(prefix="verikit-draws-"))
    try:
        if args.baseline:
            name = f"baseline-{args.baseline}"
            revision = {"revision": _git("rev-parse", args.baseline) or args.baseline, "dirty": False}
            sides[name] = (extract_revision(args.baseline, scratch), revision)
        todo = [(seed, side) for seed in seeds for side in sides]  # alternating sides: a drift hits both alike
        for seed, side in tqdm(todo, desc="draws", unit="draw"):
            folder = out / "draws" / side / f"seed{seed}"
            if (folder / "report.json").exists():
                continue
            finished = sorted((out / "draws" / side).glob("seed*/report.json"))
            if (
                finished and args.vary == "annotation" and not (folder / "samples").exists()
            ):  # not on the annotation's seed
                shutil.copytree(finished[0].parent / "samples", folder / "samples")
            tree, revision = sides[side]
            run_draw(
                folder,
                seed,
                args.recipe,
                args.smoke,
                out / "logs" / f"{side}-seed{seed}.log",
                tree,
                revision,
                args.vary,
                verifier_prm=verifier_prm and side == "current",
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    figures = {side: {seed: draw_figures(out / "draws" / side / f"seed{seed}") for seed in seeds} for side in sides}
    revisions = {
        side: {seed: json.loads((out / "draws" / side / f"seed{seed}" / "draw.json").read_text()) for seed in seeds}
        for side in sides
    }
    labels = {}  # each side with the commits its draws ran on, as the table shows them
    for side in sides:
        commits = sorted({r["revision"][:7] + ("+modified" if r["dirty"] else "") for r in revisions[side].values()})
        labels[side] = f"{'this code' if side == 'current' else 'revision'} ({', '.join(commits)})"
    comparison = compare(figures)
    result = {
        "recipe": args.recipe,
        "vary": args.vary,
        "verifier_prm": verifier_prm,
        "seeds": seeds,
        "sides": labels,
        "revisions": revisions,
        "comparison": comparison,
        "draws": figures,
    }
    (out / "annotation_draws.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "annotation_draws.md").write_text(markdown(comparison, figures, labels))
    plot(comparison, labels, out / "annotation_draws.png")
    for dataset, rows in comparison.items():
        for row, entry in rows.items():
            means = "  ".join(f"{labels[s]} {entry[s]['mean']:.2f} (sd {entry[s]['sd']})" for s in sides if s in entry)
            test = f"  difference {entry['difference']:+.2f}, p {entry['p']:.3f}" if entry.get("p") is not None else ""
            print(f"{dataset} {row:18s} {means}{test}")
    print(f"wrote {out / 'annotation_draws.json'}, .md and .png")
    return result


if __name__ == "__main__":
    main()
