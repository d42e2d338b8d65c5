"""``benchmarks.math``: the paper's recipes carry its settings, and the runner's ``--smoke`` runs every stage on real
GSM8K/MATH rows (every recipe's smoke run is in tests/pipeline/test_paper_recipes.py)."""

import pytest

from benchmarks.math.__main__ import RECIPES, main
from verikit.annotation.storage import load_records
from verikit.errors import DataError
from verikit.pipeline import load_recipe


@pytest.mark.parametrize("name", ["table1-llama2-70b", "table1-llemma-34b", "table1-deepseek-67b"])
def test_the_table_1_recipes_verify_each_dataset_with_its_own_reward_model(name):
    """(Every other setting: test_paper_settings.py against docs/reproducing.md's table.)"""
    recipe, _ = load_recipe(RECIPES / f"{name}.yaml")
    assert set(recipe.methods()) == {"sc", "orm", "sc+orm", "prm", "sc+prm"}
    _, prm = recipe.methods()["prm"]
    assert prm.reward_model_for("gsm8k-test") == "prm-gsm8k" and prm.reward_model_for("math500-test") == "prm-math"
    orms = [spec for spec in recipe.reward_models if spec.kind == "orm"]
    assert {spec.aggregation_under(recipe.score.aggregation) for spec in orms} == {"last"}  # one score per solution
    assert "### Instruction:\n{question}" in recipe.prompt_template
    assert set(recipe.paper) == {"gsm8k-test", "math500-test"} and len(recipe.paper["gsm8k-test"]) == 5


def test_a_bad_recipe_names_the_file_and_field(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text((RECIPES / "reward-models.yaml").read_text().replace("n_rollouts: 8", "n_rollout: 8"))
    with pytest.raises(DataError, match=r"r.yaml: field 'annotate.n_rollout': unknown field"):
        load_recipe(path)


def test_list_names_every_recipe(capsys):
    main(["list"])
    assert set(capsys.readouterr().out.split()) == {p.stem for p in RECIPES.glob("*.yaml")}


def test_smoke_runs_every_stage_on_real_rows(paper_data_dir, tmp_path):
    report = main(["run", "--recipe", "reward-models", "--smoke", "--out", str(tmp_path / "reward-models")])
    records = load_records(tmp_path / "reward-models" / "annotations" / "gsm8k-train")
    assert records[0]["question"].startswith("Natalia sold clips")
    assert len({r["generator"] for r in records}) == 2  # both weak generators sampled
    assert len(load_records(tmp_path / "reward-models" / "annotations" / "math-train-train"))
    trained = report["stages"]["train"]["result"]
    assert set(trained) == {"prm-gsm8k", "orm-gsm8k", "prm-math", "orm-math", "prm-mistral-7b", "orm-mistral-7b"}
    report = main(["run", "--recipe", "table1-llama2-70b", "--smoke", "--out", str(tmp_path / "table1")])
    assert set(report["best_of_n"]) == {"gsm8k-test", "math500-test"}
    assert set(report["best_of_n"]["gsm8k-test"]) == {"greedy", "sc", "orm", "sc+orm", "prm", "sc+prm", "pass@n"}
