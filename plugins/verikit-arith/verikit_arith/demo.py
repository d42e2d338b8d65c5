"""``verikit demo``: the arith recipe (``recipes/arith-easy.yaml``) run by the core pipeline, preset by preset.

This module owns no stage: the plugin contributes the recipe and its tiny generators (the ``arith`` model
provider trains them once and caches them in ``~/.cache/verikit``); :func:`verikit.pipeline.reproduce` does
the rest — annotation, reward models, sampling, scoring, best-of-N — each stage resumable from
``OUT/<preset>/``. Here the demo's options become recipe overrides and the presets' tables are gathered into
``OUT/results.json`` = ``{preset: {method: {acc, ci_low, ci_high}}}`` and ``OUT/details.json``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path


def demo_overrides(
    test_problems: int,
    samples: int,
    temperature: float,
    annotate_problems: int,
    strategy: str,
    seed: int,
    policy: str | None = None,
    completer: str | None = None,
) -> list[str]:
    """The demo's options as ``key=value`` overrides of the arith recipe."""
    sets = [
        f"sample.datasets.0.limit={test_problems}",
        f"sample.samples={samples}",
        f"sample.temperature={temperature}",
        f"annotate.datasets.0.limit={annotate_problems}",
        f"annotate.strategy={strategy}",
        *(f"{stage}.seed={seed}" for stage in ("annotate", "sample", "select")),
    ]
    if policy:
        sets += [f"models.policy={policy}", f"models.generator={policy}"]
    if completer:
        sets += [f"models.completer={completer}", f"models.reward_model_base={completer}"]
    return sets


#: the verifier-base row's training, chosen on the dev split (docs/studies/reward-models.md, issue 35): 4 epochs
#: see more than 8 there (dev probe 0.935 against 0.917, the policy's dev pairwise AUC 0.844 against 0.824) in half
#: the time
VERIFIER_PRM_TRAINING = {"learning_rate": 1e-4, "epochs": 4, "labels_after_first_error": "drop"}


def verifier_prm_overrides(preset: str, seed: int = 0) -> list[str]:
    """A reward model appended to the preset's recipe, beside the paper's rows: the paper's tag head on the
    demo's hard MC labels, started from the verifier base (:mod:`verikit_arith.verifier`, ``arith:<preset>/verifier``)
    and trained on the labels up to each solution's first ``-``. Its rows are ``verifier-PRM`` and
    ``SC+verifier-PRM``; the paper's ``PRM`` rows stay on the completer. ``seed``: the generators' seed, whose
    completer the base is made from (``arith:<preset>/verifier?seed=N``)."""
    from verikit.pipeline.recipe import load_recipe

    recipe, _ = load_recipe(preset)
    entry = {
        "name": "verifier-prm",
        "kind": "prm",
        "labels": "hard",
        "base": f"arith:{preset}/verifier" + (f"?seed={seed}" if seed else ""),
        "training": VERIFIER_PRM_TRAINING,
    }
    return [f"reward_models.{len(recipe.reward_models)}={json.dumps(entry)}"]


def run_demo(out: str | Path, presets: list[str], overrides: list[str], verifier_prm: bool = True) -> dict:
    from verikit.pipeline import reproduce
    from verikit.pipeline.report import format_table

    out = Path(out)
    started = time.perf_counter()
    results, details = {}, {"overrides": overrides}
    for preset in presets:
        extra = verifier_prm_overrides(preset) if verifier_prm else []
        report = reproduce(preset, out / preset, overrides=[*overrides, *extra])
        key = next(iter(report["best_of_n"]))
        results[preset] = report["best_of_n"][key]
        stages = report["stages"]
        models = json.loads((out / preset / "models.json").read_text())
        annotate = next(iter(stages["annotate"]["result"].values()))
        details[preset] = {
            "annotation": annotate,
            "training": stages["train"]["result"],
            "pairwise_auc": stages["select"]["result"][key]["pairwise_auc"],
            "unscorable_samples": stages["select"]["result"][key]["unscorable_samples"],
            "sampling": stages["sample"]["result"][key],
            "scoring": stages["score"]["result"].get(key, {}),
            "policy": models["policy"],
            "completer": models["completer"],
            "reward_models": str((out / preset / "reward_models").resolve()),
            "seconds": {stage: value["seconds"] for stage, value in stages.items()},
        }
        shutil.copyfile(out / preset / "select" / f"{key}.png", out / f"bon-{preset}.png")
        page = out / preset / "report.html"  # the pipeline's step-level HTML report
        if page.exists():
            shutil.copyfile(page, out / f"report-{preset}.html")
            if preset == presets[0]:
                shutil.copyfile(page, out / "report.html")
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    details["seconds"] = round(time.perf_counter() - started, 1)
    (out / "details.json").write_text(json.dumps(details, indent=2, default=str) + "\n")
    if len(presets) > 1:
        print("\n" + format_table("Table 1 (miniature), every preset: accuracy (%), 95% interval", results, {}))
    print(
        f"\nwrote {out / 'results.json'}, {out / 'details.json'}, {out / 'report.html'} and {out}/bon-<preset>.png "
        f"in {details['seconds'] / 60:.1f} min"
    )
    return results
