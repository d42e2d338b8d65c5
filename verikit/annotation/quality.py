"""How good Monte Carlo labels are, measured against gold step labels (the paper's Figure 5 analogue).

Annotation with the ``naive`` strategy at the largest N keeps every rollout verdict. Each strategy at each
smaller N is then replayed on the first verdicts of those same rollouts (:func:`run_with_pool`), so all
strategies and all N are compared on one set of samples — paired, and at no extra generation cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from verikit import components
from verikit.annotation.strategies import run_with_pool
from verikit.errors import DataError
from verikit.metrics import label_agreement_scores, roc_auc
from verikit.records import is_labelled
from verikit.types import Problem


def label_agreement(records: list[dict], gold_labeller: Callable, problems: dict | None = None) -> dict:
    """How the stored hard labels of any strategy agree with gold: accuracy, F1 of ``-``, first-error agreement.

    ``problems`` (id → Problem) gives the labeller the loaded problems, metadata included; without it each is
    rebuilt from its record."""
    usable = [r for r in records if is_labelled(r)]
    if not usable:
        raise DataError("no annotated solutions to evaluate")
    problems = problems or {}
    gold = [
        gold_labeller(
            problems.get(r["problem_id"])
            or Problem(id=r["problem_id"], question=r["question"], gold_answer=r["gold_answer"], domain=r["domain"]),
            r["steps"],
        )
        for r in usable
    ]
    result = label_agreement_scores([list(map(bool, r["hard_labels"])) for r in usable], gold)
    result.update(
        solutions=len(usable),
        steps=sum(len(g) for g in gold),
        bad_steps=sum(not x for g in gold for x in g),
        rollouts_per_solution=sum(r["rollouts_generated"] for r in usable) / len(usable),
    )
    return result


def evaluate_labels(
    records: list[dict],
    gold_labeller: Callable,
    ns: Sequence[int] = (1, 2, 4, 8, 16),
    strategies: Sequence[str] | None = None,
) -> dict:
    """``{strategy: {N: {accuracy, f1_negative, first_error_agreement, rollouts_per_solution, …}}}`` plus
    ``"soft"`` (naive soft values: accuracy at 0.5 and step AUC) and ``"counts"``. ``strategies``: every
    registered one by default."""
    strategies = components.names("strategies") if strategies is None else strategies
    usable = [r for r in records if is_labelled(r)]
    if not usable:
        raise DataError("no annotated solutions to evaluate")
    largest = max(ns)
    for record in usable:
        if record["strategy"] != "naive" or record["n_rollouts"] < largest:
            raise DataError(
                f"quality evaluation needs naive annotation with N >= {largest}; record {record['key']} "
                f"has {record['strategy']} with N={record['n_rollouts']}"
            )
    gold, pools = [], []
    for record in usable:
        problem = Problem(
            id=record["problem_id"],
            question=record["question"],
            gold_answer=record["gold_answer"],
            domain=record["domain"],
        )
        gold.append(gold_labeller(problem, record["steps"]))
        pools.append([[c == "1" for c in verdicts] for verdicts in record["verdicts"]])
    result: dict = {}
    for strategy in strategies:
        result[strategy] = {}
        for n in ns:
            predicted, used = [], 0
            for record, pool in zip(usable, pools):
                labels, spent = run_with_pool(strategy, len(record["steps"]), n, pool, record["final_correct"])
                predicted.append([label.hard for label in labels])
                used += spent
            result[strategy][n] = {
                **label_agreement_scores(predicted, gold),
                "rollouts_per_solution": used / len(usable),
            }
    result["soft"] = {}
    for n in ns:
        values, predicted = [], []
        for record, pool in zip(usable, pools):
            labels, _ = run_with_pool("naive", len(record["steps"]), n, pool, record["final_correct"])
            values.append([label.soft for label in labels])
            predicted.append([label.soft >= 0.5 for label in labels])
        flat_gold = [g for gs in gold for g in gs]
        result["soft"][n] = {
            **label_agreement_scores(predicted, gold),
            "step_auc": roc_auc([v for vs in values for v in vs], flat_gold),
        }
    steps = sum(len(g) for g in gold)
    result["counts"] = {
        "solutions": len(usable),
        "steps": steps,
        "bad_steps": sum(not x for g in gold for x in g),
        "correct_solutions": sum(bool(r["final_correct"]) for r in usable),
        "excluded_with_error": len(records) - len(usable),
    }
    return result


def plot_quality(result: dict, path) -> None:
    """Label accuracy vs N per strategy, and rollouts spent per solution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    strategies = [s for s in result if s not in ("counts", "soft")]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for strategy in strategies:
        ns = sorted(result[strategy], key=int)
        left.plot(ns, [100 * result[strategy][n]["accuracy"] for n in ns], marker="o", label=f"{strategy} (hard)")
        right.plot(ns, [result[strategy][n]["rollouts_per_solution"] for n in ns], marker="o", label=strategy)
    ns = sorted(result["soft"], key=int)
    left.plot(
        ns, [100 * result["soft"][n]["accuracy"] for n in ns], marker="s", linestyle="--", label="naive (soft ≥ 0.5)"
    )
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xlabel("N rollouts per step")
        axis.legend()
        axis.grid(alpha=0.3)
    left.set_ylabel("label accuracy vs gold (%)")
    right.set_ylabel("rollouts per solution")
    counts = result["counts"]
    fig.suptitle(f"Monte Carlo annotation quality ({counts['solutions']} solutions, {counts['steps']} steps)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def load_prm800k(path, alternatives: bool = False) -> list[dict]:
    """Human step labels in PRM800K's format → ``{"question", "steps", "gold_labels", "gold_answer", …}`` rows
    (:func:`verikit.prm800k.import_prm800k`); the rows it skips are named on stderr with their reasons."""
    import sys

    from verikit.prm800k import import_prm800k

    imported = import_prm800k(path, alternatives=alternatives)
    for skipped in imported.skipped:
        sys.stderr.write(f"verikit: PRM800K row skipped: {skipped['where']}: {skipped['reason']}\n")
    return imported.rows
