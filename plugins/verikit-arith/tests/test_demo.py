"""`verikit demo` is the arith recipe run by the core pipeline: its options become recipe overrides that the recipe
accepts, and the presets' tables are gathered into results.json / details.json. The pipeline's stages have their own
tests (tests/pipeline), and the arith recipe runs end to end under --smoke here."""

import json

from typer.testing import CliRunner

from verikit.cli import app
from verikit.plugins import get_host


def test_the_demo_options_are_valid_overrides_of_the_arith_recipe():
    from verikit.pipeline.recipe import load_recipe
    from verikit_arith.demo import demo_overrides

    sets = demo_overrides(
        test_problems=7,
        samples=8,
        temperature=0.5,
        annotate_problems=9,
        strategy="naive",
        seed=3,
        policy="/models/p",
        completer="/models/c",
    )
    recipe, _ = load_recipe("arith-easy", sets)
    assert recipe.sample.datasets[0].limit == 7 and recipe.sample.samples == 8 and recipe.sample.temperature == 0.5
    assert recipe.annotate.datasets[0].limit == 9 and recipe.annotate.strategy == "naive"
    assert recipe.annotate.seed == recipe.sample.seed == recipe.select.seed == 3
    assert recipe.models.policy == recipe.models.generator == "/models/p"
    assert recipe.models.completer == recipe.models.reward_model_base == "/models/c"
    default, _ = load_recipe("arith-easy")
    assert default.models.policy == "arith:arith-easy/policy" and set(default.methods()) == {
        "self-consistency",
        "orm",
        "sc+orm",
        "prm",
        "sc+prm",
        "likelihood-prm",
        "sc+likelihood-prm",
    }


def test_the_verifier_prm_is_a_row_beside_the_papers_prm():
    from verikit.pipeline.recipe import load_recipe
    from verikit_arith.demo import VERIFIER_PRM_TRAINING, verifier_prm_overrides

    for preset in ("arith-easy", "arith-hard"):
        recipe, _ = load_recipe(preset, verifier_prm_overrides(preset))
        added = recipe.reward_models[-1]
        assert [m.name for m in recipe.reward_models] == ["orm", "prm", "likelihood-prm", "verifier-prm"]
        assert added.kind == "prm" and added.base == f"arith:{preset}/verifier" and added.labels == "hard"
        assert added.training_settings().model_dump(include=set(VERIFIER_PRM_TRAINING)) == VERIFIER_PRM_TRAINING
        assert {"verifier-prm", "sc+verifier-prm", "prm", "sc+prm"} <= set(recipe.methods())
        paper, _ = load_recipe(preset)
        assert recipe.reward_models[1] == paper.reward_models[1]  # the paper's row is untouched
    seeded, _ = load_recipe("arith-easy", verifier_prm_overrides("arith-easy", seed=2))
    assert seeded.reward_models[-1].base == "arith:arith-easy/verifier?seed=2"  # the base of seed 2's completer


def test_demo_gathers_each_presets_table(tmp_path, monkeypatch):
    import verikit.pipeline

    calls = []

    def fake_reproduce(recipe, out, overrides=()):
        calls.append((recipe, list(overrides)))
        key = f"{recipe}-test"
        (out / "select").mkdir(parents=True)
        (out / "select" / f"{key}.png").write_bytes(b"png")
        (out / "models.json").write_text(json.dumps({"policy": "/p", "completer": "/c"}))
        table = {"greedy": {"acc": 0.5, "ci_low": 0.4, "ci_high": 0.6}}
        stage = {"seconds": 1.0}
        return {
            "best_of_n": {key: table},
            "stages": {
                "annotate": {**stage, "result": {f"{recipe}-train": {"label_quality": {"accuracy": 0.9}}}},
                "train": {**stage, "result": {}},
                "sample": {**stage, "result": {key: {"tokens_per_second": 10}}},
                "score": {**stage, "result": {}},
                "select": {**stage, "result": {key: {"pairwise_auc": {"prm": 0.7}, "unscorable_samples": 0}}},
            },
        }

    monkeypatch.setattr(verikit.pipeline, "reproduce", fake_reproduce)
    get_host().add_commands(app)
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path), "--presets", "arith-easy,arith-hard", "--samples", "8"]
    )
    assert result.exit_code == 0, result.output
    assert [c[0] for c in calls] == ["arith-easy", "arith-hard"] and "sample.samples=8" in calls[0][1]
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"arith-easy", "arith-hard"} and results["arith-easy"]["greedy"]["acc"] == 0.5
    details = json.loads((tmp_path / "details.json").read_text())
    assert details["arith-easy"]["policy"] == "/p" and details["arith-easy"]["pairwise_auc"] == {"prm": 0.7}
    assert (tmp_path / "bon-arith-hard.png").read_bytes() == b"png"
    assert any("arith:arith-easy/verifier" in o for o in calls[0][1])  # the verifier-PRM row is on by default
    assert any("arith:arith-hard/verifier" in o for o in calls[1][1])
    for number, options in enumerate((["--no-verifier-prm"], ["--completer", "/models/c"])):  # off when asked, or
        calls.clear()  # with another completer
        out = str(tmp_path / f"off{number}")
        result = CliRunner().invoke(app, ["demo", "--out", out, "--presets", "arith-hard", *options])
        assert result.exit_code == 0, result.output
        assert not any("verifier" in o for o in calls[0][1])
    result = CliRunner().invoke(app, ["demo", "--verifier-prm", "--completer", "/models/c"])
    assert result.exit_code != 0 and "drop --completer" in result.output


def test_the_arith_recipe_runs_end_to_end_under_smoke(tmp_path):
    from verikit.pipeline import reproduce

    report = reproduce("arith-easy", tmp_path, smoke=True)
    assert set(report["best_of_n"]["arith-easy-test"]) == {
        "greedy",
        "self-consistency",
        "orm",
        "sc+orm",
        "prm",
        "sc+prm",
        "pass@n",
    }  # the likelihood PRM is left out of smoke runs


def test_the_throughput_benchmark_annotates_as_each_presets_recipe_does():
    """The benchmark's schedules differ from the demo's annotation in chunks, rounds, batches and backend only."""
    from benchmarks.annotation_throughput import SCHEDULES, schedule_config
    from verikit.pipeline.recipe import load_recipe

    for preset in ("arith-easy", "arith-hard"):
        annotate = load_recipe(preset)[0].annotate
        for name, schedule in SCHEDULES.items():
            config = schedule_config(name, "policy", "completer", 10, "dev", preset)
            assert (config.dataset, config.split, config.limit) == (annotate.datasets[0].name, "dev", 10)
            assert (config.generator, config.completer) == (["policy"], "completer")
            for field in (
                "samples_per_problem",
                "n_rollouts",
                "strategy",
                "estimator",
                "temperature",
                "rollout_temperature",
                "max_new_tokens",
                "seed",
                "deduplicate",
                "estimator_options",
            ):
                assert getattr(config, field) == getattr(annotate, field), (preset, name, field)
            assert (config.round_size, config.batch_size, config.backend_options) == (
                schedule["round_size"],
                schedule["batch_size"],
                schedule["backend_options"],
            )


def test_the_model_provider_takes_a_generator_seed():
    import pytest

    from verikit_arith.plugin import provide_generator

    assert provide_generator("arith-easy/policy?seed=2", check=True) is None
    with pytest.raises(ValueError, match=r"\[\?seed=N\]"):
        provide_generator("arith-easy/policy?seed=two", check=True)


def test_generators_train_under_pinned_cpu_numerics(monkeypatch):
    """The kernels that make other CPUs train other generators are pinned (x86-64); elsewhere nothing is pinned."""
    import platform

    from verikit_arith import training

    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    assert training.pinned_numerics() == {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert training.pinned_numerics() == {}
