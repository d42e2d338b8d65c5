"""The report: every measured table, the paper's figures beside them where the recipe gives them."""

from __future__ import annotations

LABELS = {"greedy": "greedy", "self-consistency": "SC", "pass@n": "pass@N (ceiling)", "sft": "SFT"}


ACRONYMS = {"sc", "orm", "prm", "ppo", "rft", "sft", "grpo"}


def label(row: str) -> str:
    """``sc+prm`` → ``SC+PRM``, ``step-ppo`` → ``step-PPO``, ``likelihood-prm`` → ``likelihood-PRM``."""
    if row in LABELS:
        return LABELS[row]
    import re

    return re.sub(r"[a-z]+", lambda m: m.group(0).upper() if m.group(0) in ACRONYMS else m.group(0), row)


def _cell(point: dict | None) -> str:
    if not point:
        return "—".rjust(20)
    return f"{100 * point['acc']:6.1f} [{100 * point['ci_low']:4.1f},{100 * point['ci_high']:5.1f}]".rjust(20)


def paper_figure(paper: dict, dataset: str, row: str) -> float | None:
    aliases = {"self-consistency": "sc"}
    figures = paper.get(dataset, {})
    return figures.get(row, figures.get(aliases.get(row, row)))


def format_table(title: str, tables: dict[str, dict[str, dict]], paper: dict) -> str:
    """``tables``: dataset → row → {acc, ci_low, ci_high}; one column per dataset, then the paper's figure."""
    datasets = list(tables)
    rows: list[str] = []
    for table in tables.values():
        rows += [r for r in table if r not in rows]
    with_paper = any(paper.get(d) for d in datasets)
    header = f"{'method':<20}" + "".join(f"{d:>20}" + (f"{'paper':>7}" if with_paper else "") for d in datasets)
    lines = [title, header]
    for row in rows:
        cells = ""
        for dataset in datasets:
            cells += _cell(tables[dataset].get(row))
            if with_paper:
                figure = paper_figure(paper, dataset, row)
                cells += f"{figure:7.1f}" if figure is not None else " " * 7
        lines.append(f"{label(row):<20}{cells}")
    return "\n".join(lines)


def build_report(recipe, stages: dict) -> tuple[dict, str]:
    """The report's JSON and its printed text from what the stages returned (or left on disk)."""
    text = []
    report: dict = {"recipe": recipe.name, "paper": recipe.paper}
    if stages.get("select"):
        tables = {key: result["table"] for key, result in stages["select"].items()}
        report["best_of_n"] = tables
        n = recipe.sample.samples
        text.append(format_table(f"Table 1 ({recipe.name}): accuracy (%) at N={n}, 95% interval", tables, recipe.paper))
        for key, result in stages["select"].items():
            auc = ", ".join(f"{k} {v:.3f}" for k, v in result["pairwise_auc"].items() if v is not None)
            if auc:
                text.append(f"{key}: within-problem pairwise AUC {auc}")
    if stages.get("rl"):
        by_dataset: dict[str, dict] = {}
        for method, results in stages["rl"]["table"].items():
            for dataset, point in results.items():
                by_dataset.setdefault(dataset, {})[method] = point
        report["rl"] = by_dataset
        text.append(
            format_table(f"Table 2 ({recipe.name}): greedy accuracy (%), 95% interval", by_dataset, recipe.paper)
        )
    if recipe.paper_note and recipe.paper:
        text.append(f"paper figures: {recipe.paper_note}")
    for role, note in recipe.model_notes.items():
        text.append(f"note on {role}: {note}")
    return report, "\n".join(text)
