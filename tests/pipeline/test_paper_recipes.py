"""Every paper recipe (verikit-math's recipes/) runs end to end under --smoke (tiny local model, real rows)."""

import re

import pytest

from verikit_math.plugin import RECIPES as FOLDER

RECIPES = sorted(FOLDER.glob("*.yaml"))


def test_there_are_recipes_for_every_table_and_the_reward_models():
    names = {p.stem for p in RECIPES}
    assert {
        "reward-models",
        "table1-llama2-70b",
        "table1-llemma-34b",
        "table1-deepseek-67b",
        "table2-mistral7b",
        "table2-llama2-7b",
        "table3-mistral7b",
    } <= names


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_paper_recipe_passes_a_smoke_run(recipe, paper_data_dir, tmp_path):
    from verikit.pipeline import load_recipe, reproduce

    full, _ = load_recipe(recipe)
    report = reproduce(recipe, tmp_path / "run", smoke=True)
    tables = {**report.get("best_of_n", {}), **report.get("rl", {})}
    assert set(tables) == set(full.paper)  # every dataset the paper reports was measured
    for dataset, figures in full.paper.items():
        assert set(figures) <= set(tables[dataset]), dataset  # a measured row beside every paper figure
    assert report["paper"] == full.paper
    if full.finetune is not None:  # the fine-tuning stage ran on the MetaMathQA-format rows and made every model
        for spec in full.finetune.models:
            assert (tmp_path / "run" / "finetuned" / spec.name / "config.json").exists(), spec.name
    if full.sample is not None and full.sample.repeats > 1:  # the table is the mean of the sample sets, with its spread
        point = next(iter(report["best_of_n"].values()))["sc"]
        assert len(point["sets"]) == min(full.sample.repeats, 2)  # smoke: two sets


def test_the_paper_recipes_check_their_hub_models(tmp_path, run_cli, monkeypatch, paper_data_dir):
    """Outside --smoke the models must be reachable: here (no hub) a paper recipe stops at its first model."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no network here: fail at once instead of retrying
    out = tmp_path / "never"
    code, output = run_cli(["reproduce", "--recipe", RECIPES[0], "--out", out])
    assert (
        code != 0 and re.search(r"field '(models|finetune\.models\.\d)\.\w+': hub model", output) and not out.exists()
    )


@pytest.mark.slow
def test_a_smoke_run_without_metamathqa_says_which_rows_stand_in(shared_data_dir, tmp_path, monkeypatch, capsys):
    """From a machine with the benchmark folder but no MetaMathQA and no hub, the Table 2 recipe's smoke still runs:
    GSM8K train rows stand in for MetaMathQA's (fine-tuning and RFT), and the run says so."""
    from verikit.pipeline import reproduce

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    report = reproduce(FOLDER / "table2-mistral7b.yaml", tmp_path / "run", smoke=True)
    assert "smoke: metamathqa cannot be read here" in capsys.readouterr().out
    assert set(report["rl"]) == {"gsm8k-test", "math-test-test"}
