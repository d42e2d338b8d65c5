"""The core pipeline driven by recipes only: a domain defined in this file and the medqa plugin run every stage
with a tiny model; the sample stage resumes to identical samples; a new PRM re-scores without generating; a bad
recipe fails before anything is written."""

import json
import re
import sys
from pathlib import Path

import pytest

from verikit import AnswerChecker, Domain, Problem
from verikit.hookspecs import hookimpl
from verikit.plugins import PluginHost, reset_plugins
from verikit.tiny_models import build_tiny_causal_lm

# -- a domain of this file: "double N" problems, answered "The answer is 2N" -------------------------------------


class DoublingChecker(AnswerChecker):
    name = "doubling"

    def extract(self, text):
        found = re.findall(r"answer is (-?\d+)", text)
        return found[-1] if found else None

    def normalize(self, answer):
        return answer.strip() if answer is not None else None

    def equivalent(self, pred, gold):
        return pred is not None and pred.strip() == gold.strip()


#: problem id → another question, as a plugin author's regenerated dataset would have it (same ids, new rows)
EDITED_ROWS: dict[str, tuple[str, str]] = {}


def load_doubling(split="test", data_dir=None, limit=None):
    start = {"train": 1, "dev": 100, "test": 200}[split]
    problems = [
        Problem(
            id=f"double-{split}-{n}",
            question=f"Double {n}.",
            gold_answer=str(2 * n),
            domain="doubling",
            gold_solution=f"{n} + {n} = {2 * n}\nThe answer is {2 * n}.",
        )
        for n in range(start, start + (limit or 20))
    ]
    return [
        p.model_copy(update=dict(zip(("question", "gold_answer"), EDITED_ROWS[p.id]))) if p.id in EDITED_ROWS else p
        for p in problems
    ]


@hookimpl
def register_answer_checkers(register):
    register("doubling", DoublingChecker)


@hookimpl
def register_datasets(register):
    register("doubling", load_doubling)


@hookimpl
def register_domains(register):
    register(
        "doubling",
        Domain(
            name="doubling",
            answer_checker="doubling",
            step_splitter="lines",
            datasets=["doubling"],
            prompt_template="Q: {question}\nA:",
        ),
    )


RECIPE = """
name: doubling
domain: doubling
models: {{generator: {model}}}
prompt_template: "Question: {{question}}\\nSteps:\\n"
annotate:
  datasets: [{{name: doubling, split: train, limit: 4}}]
  samples_per_problem: 2
  n_rollouts: 2
  max_new_tokens: 16
  chunk_size: 2
reward_models:
  - {{name: prm, kind: prm, training: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 4}}}}
  - {{name: orm, kind: orm, training: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 4}}}}
sample:
  datasets: [{{name: doubling, split: test, limit: 5}}]
  samples: 3
  max_new_tokens: 16
  chunk_size: 2
select: {{repeats: 2}}
"""


@pytest.fixture
def doubling(monkeypatch):
    """This module's domain beside the core's components (no installed plugin)."""
    monkeypatch.setenv("VERIKIT_LOAD_PLUGINS", "")
    reset_plugins(PluginHost(load_entry_points=False, extra_plugins=(sys.modules[__name__],)))
    yield
    reset_plugins()


@pytest.fixture(scope="module")
def doubling_lm(tmp_path_factory):
    texts = [f"Question: Double {n}.\nSteps:\n{n} + {n} = {2 * n}\nThe answer is {2 * n}." for n in range(1, 300)]
    return str(build_tiny_causal_lm(tmp_path_factory.mktemp("doubling") / "model", texts, vocab_size=300))


def _recipe(tmp_path: Path, model: str, text: str = RECIPE) -> Path:
    path = tmp_path / "doubling.yaml"
    path.write_text(text.format(model=model))
    return path


def test_a_domain_defined_in_a_test_file_gets_table_1_from_a_recipe_alone(doubling, doubling_lm, tmp_path):
    from verikit.pipeline import reproduce

    out = tmp_path / "run"
    report = reproduce(_recipe(tmp_path, doubling_lm), out)
    table = report["best_of_n"]["doubling-test"]
    assert set(table) == {"greedy", "self-consistency", "prm", "sc+prm", "orm", "sc+orm", "pass@n"}
    for point in table.values():
        assert 0.0 <= point["ci_low"] <= point["acc"] <= point["ci_high"] <= 1.0
    assert (out / "select" / "doubling-test.png").stat().st_size > 0
    rows = [
        json.loads(line)
        for shard in sorted((out / "samples" / "doubling-test").glob("shard-*.jsonl"))
        for line in shard.read_text().splitlines()
    ]
    assert [r["id"] for r in rows] == [f"double-test-{n}" for n in range(200, 205)]
    assert all(len(r["samples"]) == 3 and len(r["tokens"]) == 3 for r in rows)
    sampling = report["stages"]["sample"]["result"]["doubling-test"]
    assert sampling["generated_tokens"] > 0 and sampling["tokens_per_second"] > 0
    meta = json.loads((out / "samples" / "doubling-test" / "meta.json").read_text())
    assert meta["prompt_template"] == "Question: {question}\nSteps:\n"  # the recipe's template, not the domain's
    records = [
        json.loads(line)
        for f in (out / "annotations" / "doubling-train").glob("*.jsonl")
        for line in f.read_text().splitlines()
    ]
    assert records and all(r["domain"] == "doubling" for r in records)
    for name in ("prm", "orm"):
        assert (out / "reward_models" / name / "verikit_rm.json").exists()
        assert len(json.loads((out / "scores" / "doubling-test" / f"{name}.json").read_text())["step_scores"]) > 0
        scoring = report["stages"]["score"]["result"]["doubling-test"][name]
        assert scoring["tokens_per_second"] > 0  # counted by the scorer as its model reads them


def test_killing_the_sample_stage_and_resuming_gives_identical_samples(doubling, doubling_lm, tmp_path):
    from verikit.pipeline.recipe import load_recipe
    from verikit.pipeline.stages.models import run_models
    from verikit.pipeline.stages.sample import run_sample
    from verikit.pipeline.workspace import Workspace

    recipe, _ = load_recipe(_recipe(tmp_path, doubling_lm))

    def workspace(name):
        ws = Workspace(recipe, tmp_path / name)
        run_models(ws)
        return ws

    whole = workspace("whole")
    run_sample(whole)

    class Killed(BaseException):
        pass

    def kill_after_first(ref, index):
        raise Killed

    killed = workspace("killed")
    with pytest.raises(Killed):
        run_sample(killed, on_shard_done=kill_after_first)
    folder = killed.out / "samples" / "doubling-test"
    assert sorted(p.name for p in folder.glob("shard-*")) == [
        "shard-00000.jsonl"
    ]  # one shard done, nothing half-written
    report = run_sample(killed)["doubling-test"]
    assert report["shards_reused"] == 1 and report["shards_generated"] == 2
    for shard in sorted((whole.out / "samples" / "doubling-test").glob("shard-*.jsonl")):
        assert (folder / shard.name).read_text() == shard.read_text()


def test_a_new_prm_rescores_the_saved_samples_without_generating(doubling, doubling_lm, tmp_path, monkeypatch):
    from verikit import components
    from verikit.pipeline import reproduce
    from verikit.pipeline.reuse import stored_fingerprint

    path = _recipe(tmp_path, doubling_lm)
    out = tmp_path / "run"
    reproduce(path, out)
    shards = {p: p.stat().st_mtime_ns for p in (out / "samples").rglob("shard-*.jsonl")}
    old_scores = (out / "scores" / "doubling-test" / "prm.json").read_text()
    old_model = stored_fingerprint(out / "scores" / "doubling-test" / "prm.json")["model"]

    real_lookup = components.lookup

    def refuse(**settings):
        raise AssertionError("the re-scoring run loaded a generation backend")

    def no_generation(kind, name):
        target = real_lookup(kind, name)
        return refuse if kind == "completers" else target

    monkeypatch.setattr(components, "lookup", no_generation)
    report = reproduce(
        path, out, stages=["train", "score", "select"], overrides=["reward_models.0.training.learning_rate=3.0e-3"]
    )  # a new PRM
    assert {p: p.stat().st_mtime_ns for p in shards} == shards
    scoring = report["stages"]["score"]["result"]["doubling-test"]
    assert scoring["prm"]["reused"] is False and scoring["orm"]["reused"] is True
    assert report["stages"]["train"]["result"]["orm"]["reused"] is True
    assert json.loads((out / "scores" / "doubling-test" / "prm.json").read_text()) != json.loads(old_scores)
    assert stored_fingerprint(out / "scores" / "doubling-test" / "prm.json")["model"] != old_model


def _reused(report) -> dict[str, bool]:
    """``stage/artifact`` → whether this run reused it, from the run's own report."""
    stages = report["stages"]
    flags = {f"annotate/{k}": v["reused"] for k, v in stages["annotate"]["result"].items()}
    flags |= {f"train/{k}": v["reused"] for k, v in stages["train"]["result"].items()}
    flags |= {f"sample/{k}": v["reused"] for k, v in stages["sample"]["result"].items()}
    flags |= {
        f"score/{k}/{rm}": v["reused"] for k, by_rm in stages["score"]["result"].items() for rm, v in by_rm.items()
    }
    return flags


def _retrain_in_place(folder: str, texts: list[str]) -> None:
    """A model folder overwritten by another training (same path, other weights), as a provider would."""
    import shutil

    shutil.rmtree(folder)
    build_tiny_causal_lm(folder, texts, vocab_size=300)


@pytest.mark.slow
def test_a_changed_input_reruns_exactly_the_stages_downstream_of_it(doubling, doubling_lm, tmp_path, monkeypatch):
    """The plugin author's case: retraining a model into the same folder or regenerating a dataset (same ids, other
    rows) reruns what depends on it and reuses everything else, and the run says which."""
    import shutil

    from verikit.pipeline import reproduce

    policy, base = tmp_path / "policy", tmp_path / "base"
    shutil.copytree(doubling_lm, policy)
    shutil.copytree(doubling_lm, base)
    text = RECIPE.replace(
        "models: {{generator: {model}}}", "models: {{generator: {model}, reward_model_base: " + str(base) + "}}"
    )
    path = _recipe(tmp_path, str(policy), text)
    out = tmp_path / "run"
    first = _reused(reproduce(path, out))
    assert not any(first.values())
    every = set(first)

    def rerun() -> set[str]:
        return {name for name, reused in _reused(reproduce(path, out)).items() if not reused}

    assert rerun() == set()  # nothing changed: everything reused

    # the reward models' base retrained in place: the reward models and their scores, nothing else
    _retrain_in_place(
        str(base), [f"Question: Double {n}.\nSteps:\n{2 * n}\nThe answer is {2 * n}." for n in range(300)]
    )
    assert rerun() == {"train/prm", "train/orm", "score/doubling-test/prm", "score/doubling-test/orm"}

    # a test row regenerated: the samples and their scores; the annotation and the reward models are reused
    monkeypatch.setitem(EDITED_ROWS, "double-test-201", ("Double 7.", "14"))
    assert rerun() == {"sample/doubling-test", "score/doubling-test/prm", "score/doubling-test/orm"}

    # a training row regenerated: its annotation, the reward models trained on it and their scores; not the samples
    monkeypatch.setitem(EDITED_ROWS, "double-train-2", ("Double 9.", "18"))
    assert rerun() == {
        "annotate/doubling-train",
        "train/prm",
        "train/orm",
        "score/doubling-test/prm",
        "score/doubling-test/orm",
    }

    # the generator (policy and completer) retrained in place: everything it made, i.e. everything
    _retrain_in_place(
        str(policy),
        [f"Question: Double {n}.\nSteps:\n{n} + {n} = {2 * n}\nThe answer is {2 * n}." for n in range(0, 300, 2)],
    )
    assert rerun() == every


FINETUNE_AND_RL = """
name: doubling-ft
domain: doubling
models: {{generator: "finetuned:ft"}}
prompt_template: "Question: {{question}}\\nSteps:\\n"
finetune:
  models:
    - {{name: ft, base: {model}, datasets: [{{name: doubling, split: train, limit: 4}}],
       settings: {{epochs: 1, batch_size: 4, max_length: 64}}}}
rl:
  datasets: [{{name: doubling, split: train, limit: 4}}]
  methods: {{rft: {{algo: rft}}}}
  eval: [{{name: doubling, split: test, limit: 3}}]
  max_new_tokens: 16
  settings: {{steps: 1, train_problems: 4, rft: {{samples: 2, problems: 4, epochs: 1, batch_size: 4, max_length: 64}}}}
"""


@pytest.mark.slow
def test_the_finetune_and_rl_stages_rerun_exactly_what_a_change_reaches(doubling, doubling_lm, tmp_path, monkeypatch):
    import shutil

    from verikit.pipeline import reproduce

    base = tmp_path / "base"
    shutil.copytree(doubling_lm, base)
    path = _recipe(tmp_path, str(base), FINETUNE_AND_RL)
    out = tmp_path / "run"

    def rerun() -> set[str]:
        stages = reproduce(path, out)["stages"]
        flags = {f"finetune/{k}": v["reused"] for k, v in stages["finetune"]["result"].items()}
        flags |= {f"rl/{k}": v["reused"] for k, v in stages["rl"]["result"]["methods"].items()}
        return {name for name, reused in flags.items() if not reused}

    assert rerun() == {"finetune/ft", "rl/rft"}
    assert rerun() == set()
    greedy = (out / "rl" / "sft" / "greedy-doubling-test.json").stat().st_mtime_ns
    monkeypatch.setitem(EDITED_ROWS, "double-test-201", ("Double 7.", "14"))  # an evaluation row: only its greedy
    assert rerun() == set() and (out / "rl" / "sft" / "greedy-doubling-test.json").stat().st_mtime_ns != greedy
    monkeypatch.setitem(EDITED_ROWS, "double-train-2", ("Double 9.", "18"))  # a training row: both stages
    assert rerun() == {"finetune/ft", "rl/rft"}
    _retrain_in_place(str(base), [f"Question: Double {n}.\\nSteps:\\n{2 * n}" for n in range(300)])
    assert rerun() == {"finetune/ft", "rl/rft"}


@pytest.mark.slow
def test_the_human_labels_stage_reruns_exactly_when_its_inputs_change(doubling, doubling_lm, tmp_path, monkeypatch):
    """Its MC labels are reused until the completer, a joined gold row or the human-labelled rows change."""
    import json
    import shutil

    from verikit.pipeline import reproduce

    completer = tmp_path / "completer"
    shutil.copytree(doubling_lm, completer)
    rows = tmp_path / "processbench.jsonl"

    def write_rows(answer_of_3: int) -> None:
        lines = [
            {
                "id": f"doubling-{n}",
                "problem": f"Double {n}.",
                "steps": [f"{n} + {n} = {a}", f"The answer is {a}."],
                "label": -1 if a == 2 * n else 0,
            }
            for n, a in ((1, 2), (2, 5), (3, answer_of_3))
        ]
        rows.write_text("".join(json.dumps(line) + "\n" for line in lines))

    write_rows(6)
    text = (
        "name: doubling-human\ndomain: doubling\nmodels: {generator: " + str(completer) + "}\n"
        "human_labels: {sources: [" + str(rows) + "], gold: [doubling-train], n_rollouts: 2, max_new_tokens: 12}\n"
    )
    path = tmp_path / "human.yaml"
    path.write_text(text)
    out = tmp_path / "run"

    def made() -> bool:
        return not reproduce(path, out)["stages"]["human-labels"]["result"]["reused"]

    assert made() and not made()  # made once, then reused
    write_rows(7)  # a human-labelled row changed
    assert made() and not made()
    monkeypatch.setitem(EDITED_ROWS, "double-train-2", ("Double 2.", "5"))  # its gold answer changed
    assert made() and not made()
    _retrain_in_place(str(completer), [f"Double {n}.\\n{2 * n}" for n in range(300)])  # the completer retrained
    assert made()


def test_the_medqa_plugin_gets_table_1_from_a_recipe_alone(tmp_path):
    from verikit import components
    from verikit.pipeline import reproduce

    texts = [p.question for p in components.load_dataset("medqa-sample", split="dev")]
    model = str(build_tiny_causal_lm(tmp_path / "model", texts * 5, vocab_size=300))
    recipe = tmp_path / "medqa.yaml"
    recipe.write_text(f"""
name: medqa-tiny
domain: medqa
models: {{generator: {model}}}
annotate:
  datasets: [{{name: medqa-sample, split: dev, limit: 3}}]
  samples_per_problem: 2
  n_rollouts: 2
  max_new_tokens: 16
reward_models:
  - {{name: prm, kind: prm, training: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 4}}}}
sample:
  datasets: [{{name: medqa-sample, split: test, limit: 4}}]
  samples: 3
  max_new_tokens: 16
select: {{repeats: 2}}
""")
    report = reproduce(recipe, tmp_path / "run")
    assert set(report["best_of_n"]["medqa-sample-test"]) == {"greedy", "self-consistency", "prm", "sc+prm", "pass@n"}


# -- bad input: one line naming the file and the field, nothing written ------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda t: t.replace("samples: 3", "samples: 3\n  sampels: 4"), "sample.sampels"),
        (lambda t: t.replace("domain: doubling", "domain: tripling"), "domain"),
        (
            lambda t: t.replace("domain: doubling", "domain: doubling\nbackend: {{options: {{batch_sise: 256}}}}"),
            "backend.options.batch_sise",
        ),
        (
            lambda t: t.replace("split: test, limit: 5", "split: test, limit: 5}}, {{name: doubel, split: test"),
            "sample.datasets.1.name",
        ),
        (
            lambda t: t.replace("models: {{generator: {model}}}", "models: {{generator: ./no/such/model}}"),
            "models.generator",
        ),
        (
            lambda t: t.replace("models: {{generator: {model}}}", "models: {{generator: nobody:thing}}"),
            "models.generator",
        ),
        (
            lambda t: t.replace(
                "epochs: 1, batch_size: 4}}}}\n  - {{name: orm", "epochs: 1, batch_sise: 4}}}}\n  - {{name: orm"
            ),
            "reward_models.0",
        ),
    ],
)
def test_a_bad_recipe_fails_before_any_work_naming_file_and_field(
    doubling, doubling_lm, tmp_path, run_cli, change, field
):
    path = tmp_path / "bad.yaml"
    path.write_text(change(RECIPE).format(model=doubling_lm))
    out = tmp_path / "never"
    code, output = run_cli(["reproduce", "--recipe", path, "--out", out])
    assert code != 0
    message = output.strip()
    assert len(message.splitlines()) == 1, message
    assert str(path) in message and f"'{field}" in message, message
    assert not out.exists()


def test_an_unknown_stage_fails_before_any_work(doubling, doubling_lm, tmp_path, run_cli):
    out = tmp_path / "never"
    code, output = run_cli(["reproduce", "--recipe", _recipe(tmp_path, doubling_lm), "--out", out, "--stage", "smaple"])
    assert (
        code != 0
        and "unknown pipeline stage 'smaple'" in output
        and "did you mean 'sample'" in output
        and not out.exists()
    )


def test_a_gpu_precision_on_a_cpu_machine_fails_before_any_work(doubling, doubling_lm, tmp_path, run_cli):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    text = RECIPE.replace(
        "training: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 4}}}}\n  - {{name: orm",
        "training: {{precision: bf16-mixed}}}}\n  - {{name: orm",
    )
    out = tmp_path / "never"
    code, output = run_cli(["reproduce", "--recipe", _recipe(tmp_path, doubling_lm, text), "--out", out])
    assert code != 0 and "reward_models.0.training.precision" in output and not out.exists()


# -- engines, launchers, Ray: what a GPU run relies on, exercised on CPU ------------------------------------------

EVENTS: list = []


class RecordingCompleter:
    """The transformers completer, recording when each engine opens and closes."""

    def __new__(cls, **settings):
        from verikit.completers.transformers import TransformersCompleter

        class Recorded(TransformersCompleter):
            def close(self):
                EVENTS.append(("close", id(self)))

        engine = Recorded(**settings)
        EVENTS.append(("open", id(engine)))
        return engine


@hookimpl
def register_completers(register):
    register("recording", RecordingCompleter)


def test_each_stage_releases_its_engine_before_the_next_loads(doubling, doubling_lm, tmp_path):
    from verikit.pipeline import reproduce

    EVENTS.clear()
    text = RECIPE.replace(
        "models: {{generator: {model}}}", "models: {{generator: {model}}}\nbackend: {{name: recording}}"
    )
    reproduce(_recipe(tmp_path, doubling_lm, text), tmp_path / "run")
    opened = [engine for event, engine in EVENTS if event == "open"]
    assert len(opened) == 2  # one engine for annotation (generator = completer), one for sampling
    for index, (event, engine) in enumerate(EVENTS):
        if event == "open":  # every engine opened before this one is closed by now
            closed = {e for ev, e in EVENTS[:index] if ev == "close"}
            assert {e for ev, e in EVENTS[:index] if ev == "open"} <= closed


@pytest.mark.slow
def test_reward_models_train_under_accelerate_launch(doubling_lm, tmp_path, toy):
    """The multi-GPU path (``launcher: accelerate``) on CPU with one process: the worker trains and writes the model."""
    config = tmp_path / "accelerate.yaml"
    config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\nnum_processes: 1\nuse_cpu: true\n"
        "mixed_precision: 'no'\n"
    )
    recipe = tmp_path / "sums.yaml"
    recipe.write_text(f"""
name: sums-accelerate
models: {{generator: {doubling_lm}}}
annotate:
  datasets: [{{name: sums, split: train, limit: 2}}]
  samples_per_problem: 2
  n_rollouts: 2
  max_new_tokens: 12
reward_models:
  - {{name: prm, kind: prm, launcher: accelerate, accelerate_config: {config},
     training: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 2}}}}
""")
    from verikit.pipeline import reproduce

    report = reproduce(recipe, tmp_path / "run", stages=["annotate", "train"])
    assert report["stages"]["train"]["result"]["prm"]["examples"] > 0
    assert (tmp_path / "run" / "reward_models" / "prm" / "verikit_rm.json").exists()


@pytest.mark.slow
def test_annotation_goes_through_ray_from_the_recipe(toy, toy_lm, tmp_path):
    pytest.importorskip("ray")
    from verikit.annotation.storage import load_records
    from verikit.pipeline import reproduce

    recipe = tmp_path / "sums.yaml"
    text = """
name: sums-ray
models: {{generator: {model}}}
annotate:
  datasets: [{{name: sums, split: train, limit: 4}}]
  samples_per_problem: 2
  n_rollouts: 2
  max_new_tokens: 12
  chunk_size: 2
  {ray}
"""
    recipe.write_text(text.format(model=toy_lm, ray="ray: {workers: 2}"))
    reproduce(recipe, tmp_path / "ray", stages=["annotate"])
    recipe.write_text(text.format(model=toy_lm, ray=""))
    reproduce(recipe, tmp_path / "local", stages=["annotate"])

    def solutions(folder):
        return sorted((r["key"], r["hard_labels"]) for r in load_records(folder / "annotations" / "sums-train"))

    assert solutions(tmp_path / "ray") == solutions(tmp_path / "local")  # the same records, seeded per chunk
