"""``benchmarks.math``: the paper's recipes carry its settings, and the runner's ``--smoke`` runs every stage on real
GSM8K/MATH rows (every recipe's smoke run is in tests/pipeline/test_paper_recipes.py)."""

import pytest

from benchmarks.math.__main__ import RECIPES, main
from verikit.annotation.storage import load_records
from verikit.errors import DataError
from verikit.pipeline import load_recipe


@pytest.mark.parametrize("name", ["table1-llama2-70b", "table1-llemma-34b", "table1-deepseek-67b"])
def test_the_table_1_recipes_have_the_papers_settings(name):
    recipe, _ = load_recipe(RECIPES / f"{name}.yaml")
    assert recipe.annotate.samples_per_problem == 15 and recipe.annotate.n_rollouts == 8
    assert recipe.annotate.estimator == "hard" and recipe.sample.samples == 256 and recipe.score.aggregation == "min"
    assert [d.key for d in recipe.sample.datasets] == ["gsm8k-test", "math500-test"]
    assert set(recipe.methods()) == {"sc", "orm", "sc+orm", "prm", "sc+prm"}
    assert recipe.models.completer == "meta-math/MetaMath-Llemma-7B"
    assert "### Instruction:\n{question}" in recipe.prompt_template
    assert set(recipe.paper) == {"gsm8k-test", "math500-test"} and len(recipe.paper["gsm8k-test"]) == 5


def test_a_bad_recipe_names_the_file_and_field(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text((RECIPES / "table2-mistral7b.yaml").read_text().replace("n_rollouts: 8", "n_rollout: 8"))
    with pytest.raises(DataError, match=r"r.yaml: field 'annotate.n_rollout': unknown field"):
        load_recipe(path)


def test_list_names_every_recipe(capsys):
    main(["list"])
    assert set(capsys.readouterr().out.split()) == {p.stem for p in RECIPES.glob("*.yaml")}


def test_smoke_runs_every_stage_on_real_rows(shared_data_dir, tmp_path):
    report = main(["run", "--recipe", "table1-llama2-70b", "--smoke", "--out", str(tmp_path)])
    records = load_records(tmp_path / "annotations" / "gsm8k-train")
    assert len(records) == 6 and records[0]["question"].startswith("Natalia sold clips")  # 3 real problems × 2
    assert len(load_records(tmp_path / "annotations" / "math-train-train")) == 6
    trained = report["stages"]["train"]["result"]["prm"]
    assert trained["examples"] + sum(trained["skipped_records"].values()) == 12
    assert set(report["best_of_n"]) == {"gsm8k-test", "math500-test"}
    assert set(report["best_of_n"]["gsm8k-test"]) == {"greedy", "sc", "orm", "sc+orm", "prm", "sc+prm", "pass@n"}
