"""Every benchmark in ``benchmarks/`` runs on the current code, each with its smallest settings.

The models are tiny and random (the figures mean nothing); what is checked is that each benchmark gets from its
arguments to its JSON with the library as it is now — the rot that once left ``benchmarks.scoring`` looking for
8-step solutions the preset no longer had. ``benchmarks.math`` and ``benchmarks.serve_attacks`` run in
``benchmarks/tests/test_math.py`` and ``tests/test_serve_attacks.py``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mini_demo(tmp_path_factory) -> Path:
    """A folder laid out as ``verikit demo`` writes one: a tiny policy, an ORM, a PRM and a likelihood PRM trained
    on exact labels (gold steps, and the same steps with a wrong last line), and ProcessBench rows."""
    from verikit.annotation.storage import AnnotationStore, record_key
    from verikit.jsonl import write_jsonl
    from verikit.records import AnnotationRecord
    from verikit.rm.config import PRMConfig
    from verikit.rm.data import load_examples
    from verikit.rm.likelihood import train_likelihood_prm
    from verikit.rm.training import train_reward_model
    from verikit.tiny_models import build_tiny_causal_lm
    from verikit_arith.demo import demo_overrides
    from verikit_arith.problems import load_split

    root = tmp_path_factory.mktemp("demo")
    problems = load_split("arith-easy", "train", limit=24)
    solutions = [(p, list(p.gold_steps), True) for p in problems]
    solutions += [(p, list(p.gold_steps[:-1]) + [p.gold_steps[-1] + "1"], False) for p in problems]
    tiny = build_tiny_causal_lm(
        root / "tiny", [f"{p.question}\n" + "\n".join(s) for p, s, _ in solutions], vocab_size=400
    )
    store = AnnotationStore(root / "annotations", {"dataset": "arith-easy"})
    records, rows = [], []
    for index, (problem, steps, good) in enumerate(solutions):
        labels = [True] * (len(steps) - 1) + [good]
        solution = "\n".join(steps)
        records.append(
            AnnotationRecord(
                key=record_key(problem.id, index, solution),
                chunk=0,
                problem_id=problem.id,
                domain="arith",
                question=problem.question,
                gold_answer=problem.gold_answer,
                sample_index=index,
                solution=solution,
                steps=steps,
                final_answer=None,
                final_correct=good,
                hard_labels=labels,
                soft_labels=[float(x) for x in labels],
                step_rollouts=[1] * len(steps),
                step_correct=[int(x) for x in labels],
                verdicts=["1" if x else "0" for x in labels],
                rollouts_used=0,
                rollouts_generated=0,
                rollout_tokens=0,
                error=None,
                strategy="naive",
                n_rollouts=1,
                generator="gold",
                completer="gold",
                seed=0,
                config_hash="0",
            ).model_dump()
        )
        rows.append(
            {
                "id": f"{problem.id}-{index}",
                "problem": problem.question,
                "problem_id": problem.id,
                "steps": steps,
                "label": -1 if good else len(steps) - 1,
                "final_answer_correct": good,
            }
        )
    store.append(0, records)
    store.close()
    write_jsonl(root / "processbench-dev.jsonl", rows[::2])
    write_jsonl(root / "processbench-test.jsonl", rows[1::2])
    models = root / "arith-easy" / "reward_models"
    for name in ("orm", "prm"):
        train_reward_model(
            PRMConfig(base=str(tiny), objective=name, epochs=1.0, batch_size=16, learning_rate=1e-3),
            root / "annotations",
            models / name,
            progress=False,
        )
    train_likelihood_prm(
        str(tiny), load_examples(root / "annotations", "prm", "hard"), models / "likelihood-prm", domain="arith"
    )
    overrides = demo_overrides(
        test_problems=4,
        samples=4,
        temperature=1.0,
        annotate_problems=4,
        strategy="early-exit",
        seed=0,
        policy=str(tiny),
        completer=str(tiny),
    ) + ["select.repeats=2", "sample.chunk_size=2"]
    details = {"overrides": overrides, "arith-easy": {"policy": str(tiny), "completer": str(tiny)}}
    (root / "details.json").write_text(json.dumps(details))
    return root


def _run(module: str, argv: list) -> dict:
    result = importlib.import_module(module).main([str(a) for a in argv])
    assert isinstance(result, dict) and result
    return result


def test_every_benchmark_module_is_listed_here():
    """A new benchmark must be added to the runs below (or to the two files named in the module docstring)."""
    found = {
        str(p.relative_to(BENCHMARKS.parent).with_suffix("")).replace("/", ".").removesuffix(".__main__")
        for p in BENCHMARKS.rglob("*.py")
        if p.name not in ("__init__.py", "recipe.py") and "tests" not in p.relative_to(BENCHMARKS).parts
    }
    assert found == COVERED


COVERED = {
    "benchmarks.rm_throughput",
    "benchmarks.generator_numerics",
    "benchmarks.decode_host",
    "benchmarks.annotation",
    "benchmarks.annotation_draws",
    "benchmarks.annotation_throughput",
    "benchmarks.bon_arith",
    "benchmarks.perf",
    "benchmarks.reward_models",
    "benchmarks.robustness",
    "benchmarks.scoring",
    "benchmarks.tag_head_ablation",
    "benchmarks.temperature_dev",
    "benchmarks.arith",
    "benchmarks.arith.ppo_dev",
    "benchmarks.arith.rl",
    "benchmarks.math",
    "benchmarks.serve_attacks",
    "benchmarks.gpu_check",
    "benchmarks.prm_scaling",
    "benchmarks.contrastive_probe",
    "benchmarks.tag_probes",
    "benchmarks.tag_head_study",
    "benchmarks.verifier_verdict",
    "benchmarks.process_outcome",
    "benchmarks.policy_schedule",
}


def test_annotation_quality(mini_demo, tmp_path):
    result = _run(
        "benchmarks.annotation",
        ["--generator", mini_demo / "tiny", "--problems", 2, "--samples", 2, "--ns", "1,2", "--out", tmp_path],
    )
    assert (tmp_path / "quality.json").exists() or any(tmp_path.iterdir())
    assert "naive" in json.dumps(result)


def test_annotation_throughput(mini_demo, tmp_path):
    # --baseline HEAD: the committed code, extracted and run in a subprocess (the mechanism any older revision uses)
    result = _run(
        "benchmarks.annotation_throughput",
        ["--demo", mini_demo, "--problems", 2, "--baseline", "HEAD", "--out", tmp_path],
    )
    assert (
        result["identical_solutions_and_labels"] and result["before"]["solutions"] == result["after"]["solutions"] == 8
    )
    assert json.loads((tmp_path / "annotation_throughput.json").read_text())["speedup"] > 0
    bound = result["sibling_stop_bound"]
    assert bound["rollout_tokens"] == result["after"]["rollout_tokens"]  # the recorded calls are the run's rollouts
    assert 0 <= bound["tokens_after_first_correct"] <= bound["rollout_tokens"]
    assert bound["witnessed_prefixes"] <= bound["probed_prefixes"]
    baseline = result["baseline"]
    assert baseline["solutions"] == 8 and len(baseline["all_seconds"]) == 2 and result["speedup_over_baseline"] > 0
    assert baseline["labelled_steps"] > 0 and 0 <= baseline["positive_step_fraction"] <= 1


def test_annotation_draws(tmp_path):
    """Two seeds on this code and on the committed code (--baseline HEAD, extracted and run on PYTHONPATH), each a
    smoke reproduce in a subprocess; a second call finds every draw done and runs none."""
    argv = ["--seeds", "0-1", "--baseline", "HEAD", "--smoke", "--out", tmp_path]
    result = _run("benchmarks.annotation_draws", argv)
    assert set(result["draws"]) == {"current", "baseline-HEAD"} and result["seeds"] == [0, 1]
    head = result["revisions"]["baseline-HEAD"][0]["revision"]
    assert len(head) == 40 and result["revisions"]["current"][1]["revision"] == head  # this checkout is HEAD's
    rows = result["comparison"]["arith-easy-test"]
    assert {"orm", "prm", "self-consistency"} <= set(rows)
    assert result["verifier_prm"] is True  # the demo's row, on this code's side only (a baseline runs its own recipe)
    assert {"verifier-prm", "sc+verifier-prm"} <= set(rows)
    assert all("baseline-HEAD" not in rows[r] and len(rows[r]["current"]["values"]) == 2 for r in ("verifier-prm",))
    shared = [r for r in rows if not r.endswith("verifier-prm")]
    assert all(len(rows[r][side]["values"]) == 2 for r in shared for side in ("current", "baseline-HEAD"))
    assert all(0 <= rows[r]["p"] <= 1 for r in shared)
    assert (tmp_path / "annotation_draws.png").stat().st_size > 0 and "| orm |" in (
        tmp_path / "annotation_draws.md"
    ).read_text()
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.glob("draws/*/seed*/report.json")}
    assert len(stamps) == 4
    again = _run("benchmarks.annotation_draws", argv)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("draws/*/seed*/report.json")} == stamps
    assert again["comparison"] == result["comparison"]


def test_best_of_n(mini_demo, tmp_path):
    _run(
        "benchmarks.bon_arith",
        [
            "--policy",
            mini_demo / "tiny",
            "--rm",
            f"prm={mini_demo / 'arith-easy' / 'reward_models' / 'prm'}",
            "--problems",
            2,
            "--samples",
            2,
            "--repeats",
            2,
            "--out",
            tmp_path,
        ],
    )


def test_perf(mini_demo, tmp_path):
    result = _run(
        "benchmarks.perf",
        [
            "--model",
            mini_demo / "tiny",
            "--prm",
            mini_demo / "arith-easy" / "reward_models" / "prm",
            "--sections",
            "completion,scoring,annotation,serve",
            "--problems",
            1,
            "--annotation-problems",
            2,
            "--out",
            tmp_path / "perf.json",
        ],
    )
    assert {"completion", "scoring", "annotation", "serve"} <= set(result)


def test_reward_models(mini_demo, tmp_path):
    _run(
        "benchmarks.reward_models",
        [
            "--annotations",
            mini_demo / "annotations",
            "--base",
            mini_demo / "tiny",
            "--dev",
            mini_demo / "processbench-dev.jsonl",
            "--test",
            mini_demo / "processbench-test.jsonl",
            "--epochs",
            0.5,
            "--out",
            tmp_path,
        ],
    )


def test_robustness(tmp_path):
    from benchmarks.robustness import exit_status

    result = _run("benchmarks.robustness", ["--strings", 20, "--out", tmp_path / "robustness.json"])
    assert result["failures"] == 0 and exit_status(result) == 0
    assert exit_status({**result, "failures": 3}) == 1  # a checker that raises or hangs fails the command


def test_scoring(mini_demo, tmp_path):
    result = _run(
        "benchmarks.scoring",
        [
            "--model",
            mini_demo / "arith-easy" / "reward_models" / "prm",
            "--solutions",
            2,
            "--steps",
            7,
            "--batch-sizes",
            1,
            "--repeats",
            1,
            "--out",
            tmp_path / "scoring.json",
        ],
    )
    assert json.loads((tmp_path / "scoring.json").read_text()) == json.loads(json.dumps(result))


def test_tag_head_ablation(mini_demo, tmp_path):
    _run(
        "benchmarks.tag_head_ablation",
        [
            "--annotations",
            mini_demo / "annotations",
            "--base",
            mini_demo / "tiny",
            "--dev",
            mini_demo / "processbench-dev.jsonl",
            "--test",
            mini_demo / "processbench-test.jsonl",
            "--variants",
            "paper",
            "--epochs",
            0.5,
            "--out",
            tmp_path,
        ],
    )


def test_temperature_dev(mini_demo, tmp_path):
    _run(
        "benchmarks.temperature_dev",
        [
            "--policy",
            mini_demo / "tiny",
            "--rm",
            mini_demo / "arith-easy" / "reward_models" / "prm",
            "--temperatures",
            "1.0",
            "--problems",
            2,
            "--samples",
            2,
            "--out",
            tmp_path / "t.json",
        ],
    )


def test_arith_table_and_beam_search(mini_demo, tmp_path):
    _run(
        "benchmarks.arith.__main__",
        [
            "--demo",
            mini_demo,
            "--seeds",
            1,
            "--beam-problems",
            2,
            "--beam-width",
            1,
            "--expansions",
            2,
            "--out",
            tmp_path,
        ],
    )


def test_ppo_dev(mini_demo, tmp_path):
    _run(
        "benchmarks.arith.ppo_dev",
        [
            "--demo",
            mini_demo,
            "--reward",
            "prm",
            "--steps",
            1,
            "--eval-every",
            1,
            "--dev-problems",
            2,
            "--train-problems",
            4,
            "--config",
            "tiny:prompts_per_step=2,minibatch_size=2,max_new_tokens=8",
            "--out",
            tmp_path,
        ],
    )


def test_rl_table(mini_demo, tmp_path):
    _run(
        "benchmarks.arith.rl",
        [
            "--demo",
            mini_demo,
            "--seeds",
            0,
            "--steps",
            1,
            "--prompts-per-step",
            2,
            "--rft-problems",
            2,
            "--rft-samples",
            1,
            "--test-problems",
            2,
            "--max-new-tokens",
            8,
            "--out",
            tmp_path,
        ],
    )


def test_gpu_check_code_paths_on_cpu(tmp_path):
    """The GPU check itself needs CUDA (never part of CI); its code paths run here on a 2-layer model."""
    from benchmarks.gpu_check import main

    report = main(["--tiny", "--device", "cpu", "--work", str(tmp_path / "work"), "--out", str(tmp_path / "gpu.json")])
    assert report["prm_training"]["precision"] == "fp32"
    assert report["prm_training"]["weights_moved_share_at_lr_2e-6"] > 0.9  # a bf16 checkpoint, fp32 master weights
    assert report["scoring"]["max_difference_one_pass_vs_per_prefix"] < 1e-4
    assert (
        report["sampling"]["buffered_kv"]["generated_tokens"] > 0
        and report["ppo_step"]["policy_dtype"] == "torch.float32"
    )
    assert json.loads((tmp_path / "gpu.json").read_text())["seconds"] > 0
    # every phase says how fast and how busy the device was (no GPU here: busy share None, MFU None without a peak)
    assert report["size"] == "tiny" and report["prm_training"]["tokens_per_second"] > 0
    assert report["prm_training"]["device_busy_share"] is None and report["prm_training"]["saved_model_bytes"] > 0
    assert report["scoring"]["batch_128"]["tokens_per_second"] > 0
    assert report["sampling"]["buffered_kv"]["ms_per_step"] > 0
    # a phase alone reuses the model the first run built; the score phase needs the train phase's PRM
    again = main(
        [
            "--tiny",
            "--device",
            "cpu",
            "--work",
            str(tmp_path / "work"),
            "--phases",
            "score",
            "--out",
            str(tmp_path / "score.json"),
        ]
    )
    assert set(again) >= {"scoring"} and "prm_training" not in again
    with pytest.raises(SystemExit):
        main(["--tiny", "--device", "cpu", "--work", str(tmp_path / "empty"), "--phases", "score"])


def test_gpu_check_sizes_are_the_issues_shapes():
    from benchmarks.gpu_check import SIZES

    assert SIZES["1b"]["shape"]["hidden_size"] == 2048 and SIZES["1b"]["shape"]["num_hidden_layers"] == 22
    assert SIZES["7b"]["shape"] == dict(
        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32
    )
    assert SIZES["7b"]["kv_heads"] == 8 and SIZES["7b"]["vocab"] == 32000


@pytest.fixture(scope="module")
def smoke_demo(tmp_path_factory) -> Path:
    """A demo folder holding a smoke run of the arith recipe (its tiny model as policy and completer)."""
    from verikit.pipeline import reproduce

    root = tmp_path_factory.mktemp("smoke-demo")
    reproduce("arith-easy", root / "arith-easy", smoke=True)
    return root


def test_prm_scaling(smoke_demo, tmp_path, shared_data_dir):
    """The label-scale study on a smoke run of the arith recipe."""
    result = _run(
        "benchmarks.prm_scaling",
        ["--demo", smoke_demo, "--sizes", 8, "--mc-sizes", 8, "--out", tmp_path / "scaling"],
    )
    assert set(result) == {"prm-gold", "orm", "prm-mc"} and set(result["prm-gold"]) == {"8"}
    assert (tmp_path / "scaling" / "scaling.png").stat().st_size > 0 and (tmp_path / "scaling" / "scaling.md").exists()


def test_process_outcome(smoke_demo, tmp_path, capsys):
    from benchmarks.process_outcome import first_wrong_kind, process_labels
    from verikit.components import step_splitter
    from verikit_arith.problems import make_problem

    result = _run("benchmarks.process_outcome", ["--run", smoke_demo / "arith-easy", "--out", tmp_path])
    (figures,) = result.values()
    assert figures["samples"] > 0 and 0 <= figures["right_through_a_wrong_step"] <= figures["right_answers"]
    assert set(figures["pairwise_auc"]) == {"orm", "prm"} and "self-consistency" in figures["table"]
    assert "exact_process_labels_pairwise_auc_by_outcome" in figures
    for row in figures["table"].values():
        assert 0 <= row["right_through_right_steps"] <= row["accuracy"] <= 1
    assert (tmp_path / "process_outcome.md").exists() and (tmp_path / "process_outcome.json").exists()

    # the labels themselves: a right answer through a false equation, one through an illegal move, and a clean one
    problem = make_problem("7*9*1-2", "arith-easy", "p")
    texts = [
        "Step 1: 7*9=63\nStep 2: 63-1=66\nStep 3: 66-2=61\nThe answer is 61",
        "Step 1: 1-2=-1\nStep 2: 7*9=63\nThe answer is 61",
        "Step 1: 7*9=63\nStep 2: 63*1=63\nStep 3: 63-2=61\nThe answer is 61",
        "Step 1: 7*9=63\nStep 2: 63*1=63\nStep 3: 63-2=60\nThe answer is 60",
    ]
    labels, kinds = process_labels([problem], [texts], step_splitter("lines"), [[True, True, True, False]])
    assert labels == [[False, False, True, False]] and kinds == {"slip": 1, "illegal": 1}
    assert first_wrong_kind("Step 2: 63-1=66") == "slip" and first_wrong_kind("no step here") == "unreadable"

    # exact step labels exist only for arith: another domain's run is refused by name
    import shutil

    from benchmarks.process_outcome import main

    other = tmp_path / "math-run"
    shutil.copytree(smoke_demo / "arith-easy", other)
    recipe = json.loads((other / "recipe.json").read_text())
    recipe["recipe"]["domain"] = "math"
    (other / "recipe.json").write_text(json.dumps(recipe))
    with pytest.raises(SystemExit):
        main(["--run", str(other), "--out", str(tmp_path / "refused")])
    assert "a run of the 'math' domain" in capsys.readouterr().err


def test_contrastive_probe(mini_demo, tmp_path):
    result = _run(
        "benchmarks.contrastive_probe", ["--run", mini_demo / "arith-easy", "--problems", 3, "--out", tmp_path]
    )
    assert set(result["models"]) == {"orm", "prm", "likelihood-prm"}
    for row in result["models"].values():
        assert 0 <= row["all"]["ordered"] <= 1 and "position_1" in row and "kind_result-1" in row
    assert (tmp_path / "probe.png").stat().st_size > 0 and (tmp_path / "probe.md").exists()


def test_tag_probes(mini_demo, tmp_path):
    result = _run(
        "benchmarks.tag_probes", ["--models", f"tiny={mini_demo / 'tiny'}", "--problems", 8, "--out", tmp_path]
    )
    layers = result["models"]["tiny"]["by_position"]["tag"]
    assert len(layers) == 3 and all(0 <= v <= 1 for v in layers)  # embeddings + the tiny model's two layers


def test_verifier_verdict(mini_demo, tmp_path):
    tiny = mini_demo / "tiny"
    run = tmp_path / "run"
    run.mkdir()
    (run / "models.json").write_text(json.dumps({"policy": str(tiny)}))
    result = _run(
        "benchmarks.verifier_verdict",
        ["--models", f"a={tiny},b={tiny}", "--problems", 3, "--run", run, "--dev-problems", 2, "--out", tmp_path],
    )
    assert result["models"]["a"] == result["models"]["b"] and 0 <= result["models"]["a"]["all"]["ordered"] <= 1
    assert "position_1" in result["models"]["a"] and (tmp_path / "verdict.png").stat().st_size > 0
    dev = result["models"]["a"]["policy_dev"]
    assert dev["problems"] == 2 and 0 <= dev["self_consistency"] <= dev["pass_at_n"] <= 1
    assert 0 <= dev["best_of_n"] <= dev["pass_at_n"]
    from benchmarks.verifier_verdict import layout_text

    steps = ["Step 1: 2*3=6", "Step 2: 1+6=7"]
    assert layout_text("1+2*3=?", steps, "prm") == "1+2*3=? Step 1: 2*3=6 ки\nStep 2: 1+6=7"
    assert layout_text("1+2*3=?", steps, "prm", tagged=True) == "1+2*3=? Step 1: 2*3=6 ки\nStep 2: 1+6=7 ки"
    assert layout_text("1+2=?", ["Step 1: 1+2=3"], "generator") == "1+2=?\nStep 1: 1+2=3"


def test_tag_head_study(mini_demo, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "models.json").write_text(
        json.dumps({"policy": str(mini_demo / "tiny"), "reward_model_base": str(mini_demo / "tiny")})
    )
    (run / "annotations").mkdir()
    (run / "annotations" / "arith-easy-train").symlink_to(mini_demo / "annotations")
    result = _run(
        "benchmarks.tag_head_study",
        [
            "--run",
            run,
            "--experiments",
            "demo-mc@1e-3,demo-mc-first@1e-3,scripted-first@3e-4",
            "--every",
            1,
            "--train-problems",
            8,
            "--policy-problems",
            2,
            "--probe-problems",
            2,
            "--dev-problems",
            2,
            "--out",
            tmp_path / "study",
        ],
    )
    assert set(result) == {"demo-mc@1e-3", "demo-mc-first@1e-3", "scripted-first@3e-4"}
    assert all(row["dev_probe_curve"] and 0 <= row["test_probe"]["all"]["ordered"] <= 1 for row in result.values())
    assert (tmp_path / "study" / "study.png").stat().st_size > 0


def test_generator_draws_vary_the_miniatures_generators_not_the_annotation():
    from benchmarks.annotation_draws import draw_overrides

    assert draw_overrides("annotation", 3, "arith-easy") == ["annotate.seed=3"]
    sets = draw_overrides("generator", 2, "arith-easy")
    assert "models.policy=arith:arith-easy/policy?seed=2" in sets
    assert "models.completer=arith:arith-easy/completer?seed=2" in sets and not any("annotate" in s for s in sets)
    assert not any("verifier" in s for s in sets)


def test_policy_schedule(tmp_path, monkeypatch):
    """Tiny policies at two schedules and two seeds, trained into an empty cache and scored on 4 dev problems; a
    second call reuses the trained models."""
    monkeypatch.setenv("VERIKIT_CACHE", str(tmp_path / "cache"))
    argv = ["--seeds", "0-1", "--schedules", "2+1,3+2", "--problems", 4, "--samples", 2, "--tiny", "--out", tmp_path]
    result = _run("benchmarks.policy_schedule", argv)
    rows = result["rows"]
    assert [(r["schedule"], r["seed"]) for r in rows] == [("2+1", 0), ("3+2", 0), ("2+1", 1), ("3+2", 1)]
    assert len({r["model"] for r in rows}) == 4 and all(Path(r["model"]).is_relative_to(tmp_path) for r in rows)
    assert all(0 <= r["greedy"] <= 100 and r["maj_at_n"] <= r["pass_at_n"] for r in rows)
    config = json.loads((Path(rows[1]["model"]) / "verikit_generator.json").read_text())["config"]
    assert (config["max_steps"], config["decay_steps"], config["seed"], config["hidden_size"]) == (5, 2, 0, 32)
    stamps = {r["model"]: (Path(r["model"]) / "verikit_generator.json").stat().st_mtime_ns for r in rows}
    again = _run("benchmarks.policy_schedule", argv)
    assert {
        r["model"]: (Path(r["model"]) / "verikit_generator.json").stat().st_mtime_ns for r in again["rows"]
    } == stamps
    assert "| 2+1 | 0 |" in (tmp_path / "policy_schedule.md").read_text()
    with pytest.raises(SystemExit, match="STABLE\\+DECAY"):
        _run("benchmarks.policy_schedule", ["--schedules", "200", "--out", tmp_path])


def test_draws_carry_the_demos_verifier_prm_row_with_the_draws_own_base():
    from benchmarks.annotation_draws import draw_overrides, verifier_prm_applies

    assert verifier_prm_applies("arith-easy") and verifier_prm_applies("arith-hard")
    assert not verifier_prm_applies("gsm8k")
    (by_generator,) = [s for s in draw_overrides("generator", 2, "arith-easy", verifier_prm=True) if "verifier" in s]
    assert by_generator.startswith("reward_models.3=") and '"arith:arith-easy/verifier?seed=2"' in by_generator
    (by_annotation,) = [s for s in draw_overrides("annotation", 2, "arith-easy", verifier_prm=True) if "verifier" in s]
    assert '"arith:arith-easy/verifier"' in by_annotation  # the generators stay at seed 0, and so does their base


def test_rm_throughput(mini_demo, tmp_path):
    argv = ["--annotations", mini_demo / "annotations", "--base", mini_demo / "tiny", "--repeats", 1, "--out", tmp_path]
    result = _run("benchmarks.rm_throughput", argv)
    grouped, mixed = result["grouped by length"], result["random order"]
    assert grouped["computed_per_real_token"] <= mixed["computed_per_real_token"]
    assert result["sides"]["random order"][0]["tokens_real"] == result["sides"]["grouped by length"][0]["tokens_real"]
    assert (tmp_path / "rm_throughput.md").exists()


def test_decode_host(tmp_path):
    result = _run("benchmarks.decode_host", ["--rows", 16, "--repeats", 1, "--baseline", "HEAD", "--out", tmp_path])
    assert result["same_samples"] is True and result["speedup"] > 0
    assert all(figures["ms_per_step_median"] > 0 for figures in result["sides"].values())


def test_generator_numerics(tmp_path):
    argv = ["--steps", 2, "--only", "native, 2 threads;native, 1 thread;pinned (the plugin's)", "--out", tmp_path]
    result = _run("benchmarks.generator_numerics", argv)
    assert result["same_as_native"]["native, 1 thread"] is True  # the thread count changes nothing
    assert all(len(r["weights"]) == 16 for r in result["settings"].values())
