"""``benchmarks.math``: the recipe validates, and ``--smoke`` runs every stage on real GSM8K/MATH500 rows."""

import json

import pytest

from benchmarks.math.__main__ import main
from benchmarks.math.recipe import load_recipe
from verikit.annotation.storage import load_records
from verikit.errors import DataError

RECIPE = "benchmarks/math/recipes/mistral7b.yaml"


def test_the_shipped_recipe_has_the_papers_settings():
    recipe = load_recipe(RECIPE)
    assert recipe.annotate.samples_per_problem == 15 and recipe.annotate.n_rollouts == 8
    assert recipe.annotate.estimator == "hard" and recipe.verify.samples == 256 and recipe.verify.aggregation == "min"
    assert [d.name for d in recipe.verify.datasets] == ["gsm8k", "math500"]


def test_a_bad_recipe_names_the_file_and_field(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(open(RECIPE).read().replace("n_rollouts: 8", "n_rollout: 8"))
    with pytest.raises(DataError, match=r"r.yaml: field .annotate.n_rollout.: Extra inputs"):
        load_recipe(path)


def test_smoke_runs_every_stage_on_real_rows(shared_data_dir, tmp_path):
    report = main(["run", "--recipe", RECIPE, "--smoke", "--out", str(tmp_path)])
    for name, question_start in (("gsm8k", "Natalia sold clips"), ("math-train", None)):
        records = load_records(tmp_path / "annotations" / name)
        assert len(records) == 10  # 5 real train problems × 2 samples, none dropped
        if question_start:
            assert records[0]["question"].startswith(question_start)
    assert report["train"]["prm"]["examples"] + sum(report["train"]["prm"]["skipped_records"].values()) == 20
    for name in ("gsm8k", "math500"):
        result = report["verify"][name]
        assert result["problems"] == 5 and result["samples"] == 4
        assert set(result["curves"]) == {"sc", "orm", "sc+orm", "prm", "sc+prm"}
    saved = json.loads((tmp_path / "report-all.json").read_text())
    assert set(saved["verify"]) == {"gsm8k", "math500"}
