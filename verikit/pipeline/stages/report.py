"""The report stage (every run's last): each stage's table in text and JSON, the paper's figures beside the measured
ones, and the step-level HTML page when the run sampled.

A stage contributes through its ``report`` function (:class:`verikit.pipeline.stage.Stage`); a stage that did not run
this time contributes what its last run left in ``stages/<name>.json``.
"""

from __future__ import annotations

import json

from verikit.pipeline.stage import Stage, registered
from verikit.pipeline.workspace import Workspace, write_json_atomically


def build_report(ws: Workspace, results: dict, seconds: dict) -> tuple[dict, str]:
    """The report's JSON and printed text from the stages' results (this run's, or their last saved ones)."""
    recipe = ws.recipe
    report: dict = {"recipe": recipe.name, "paper": recipe.paper}
    text: list[str] = []
    for name, stage in registered().items():
        if stage.report is None or not stage.in_recipe(recipe):
            continue
        result = results.get(name)
        saved = ws.out / "stages" / f"{name}.json"
        if result is None and saved.exists():
            result = json.loads(saved.read_text())["result"]
        if result:
            part, lines = stage.report(recipe, result)
            report.update(part)
            text += lines
    if recipe.paper_note and recipe.paper:
        text.append(f"paper figures: {recipe.paper_note}")
    for role, note in recipe.model_notes.items():
        text.append(f"note on {role}: {note}")
    report["stages"] = {name: {"seconds": seconds.get(name), "result": results.get(name)} for name in results}
    return report, "\n".join(text)


def run_report(ws: Workspace, results: dict | None = None, seconds: dict | None = None) -> dict:
    report, text = build_report(ws, results or {}, seconds or {})
    write_json_atomically(ws.out / "report.json", report)
    written = [ws.out / "report.json"]
    if ws.recipe.sample is not None and (ws.out / "select").exists():
        from verikit.pipeline.html_report import write_html_report

        written.append(write_html_report(ws.out))
    reused = [f"{name} ({why})" for name, why in _reused(results or {}).items()]
    if reused:
        text += "\n\nreused: " + "; ".join(reused)
    print("\n" + text + f"\n\nwrote {', '.join(map(str, written))}", flush=True)
    return report


def _reused(results: dict) -> dict[str, str]:
    """Stage → what it reused, from the ``reused``/``why`` entries of its result."""
    found: dict[str, str] = {}

    def walk(stage: str, value) -> None:
        if isinstance(value, dict):
            if value.get("reused") is True and "why" in value:
                found.setdefault(stage, value["why"].removeprefix("reused "))
                found[stage] = (
                    found[stage] if found[stage] == value["why"].removeprefix("reused ") else "several artifacts"
                )
            for item in value.values():
                walk(stage, item)

    for stage, result in results.items():
        walk(stage, result)
    return found


STAGE = Stage(run=run_report, always=True, description="the tables, the paper's figures beside them, the HTML report")
