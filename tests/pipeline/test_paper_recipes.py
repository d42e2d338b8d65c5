"""Every paper recipe in benchmarks/math/recipes runs end to end under --smoke (tiny local model, real rows)."""

from pathlib import Path

import pytest

RECIPES = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "math" / "recipes").glob("*.yaml"))


def test_there_are_recipes_for_both_tables():
    names = {p.stem for p in RECIPES}
    assert {"table1-llama2-70b", "table1-llemma-34b", "table1-deepseek-67b", "table2-mistral7b", "table2-llama2-7b"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_paper_recipe_passes_a_smoke_run(recipe, shared_data_dir, tmp_path):
    from verikit.pipeline import load_recipe, reproduce

    full, _ = load_recipe(recipe)
    report = reproduce(recipe, tmp_path / "run", smoke=True)
    tables = {**report.get("best_of_n", {}), **report.get("rl", {})}
    assert set(tables) == set(full.paper)  # every dataset the paper reports was measured
    for dataset, figures in full.paper.items():
        assert set(figures) <= set(tables[dataset]), dataset  # a measured row beside every paper figure
    assert report["paper"] == full.paper


def test_the_paper_recipes_check_their_hub_models(tmp_path, run_cli, monkeypatch):
    """Outside --smoke the models must be reachable: here (no hub) a paper recipe stops at its first model."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no network here: fail at once instead of retrying
    out = tmp_path / "never"
    code, output = run_cli(["reproduce", "--recipe", RECIPES[0], "--out", out])
    assert code != 0 and "models.generator" in output and not out.exists()
