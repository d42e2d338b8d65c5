"""The annotation pipeline end to end on the tests' ``sums`` domain with a tiny model: records, errors, resumption."""

import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest

from verikit.annotation.config import AnnotationConfig
from verikit.annotation.driver import annotate
from verikit.annotation.storage import load_records


def config_for(model, **overrides):
    settings = dict(
        dataset="sums",
        split="dev",
        limit=4,
        generator=str(model),
        samples_per_problem=2,
        n_rollouts=3,
        max_new_tokens=24,
        chunk_size=2,
        device="cpu",
    )
    settings.update(overrides)
    return AnnotationConfig(**settings)


@pytest.mark.parametrize("strategy", ["naive", "early-exit", "binary-search"])
def test_every_sampled_solution_becomes_one_record_with_one_label_per_step(toy, toy_lm, tmp_path, strategy):
    summary = annotate(config_for(toy_lm, strategy=strategy), tmp_path / "ann", progress=False)
    records = load_records(tmp_path / "ann")
    assert summary.solutions == len(records) == 8
    for record in records:
        assert record["strategy"] == strategy and record["generator"] == str(toy_lm)
        if record["error"]:
            assert record["error"] == "solution has no steps" and not record["hard_labels"]
            continue
        assert len(record["hard_labels"]) == len(record["soft_labels"]) == len(record["steps"])
        assert len(record["verdicts"]) == len(record["steps"])
        assert all(len(v) <= 3 for v in record["verdicts"])
        assert record["rollouts_used"] == sum(len(v) for v in record["verdicts"])
    if strategy == "naive":
        assert all(
            len(v) == 3 for r in records if not r["error"] for v in r["verdicts"][:-1] if r["final_correct"] is not None
        )


def test_a_solution_without_steps_and_a_gold_answer_the_checker_cannot_read_are_counted(
    toy, toy_lm, tmp_path, monkeypatch
):
    real = toy.load_sums

    def with_bad_gold(split="test", data_dir=None, limit=None):
        loaded = real(split, data_dir, limit)
        loaded[0] = loaded[0].model_copy(update={"gold_answer": "seventeen"})
        return loaded

    monkeypatch.setattr(toy, "load_sums", with_bad_gold)
    summary = annotate(config_for(toy_lm, limit=2), tmp_path / "ann", progress=False)
    assert summary.solutions == 4
    assert summary.errors.get("gold answer not understood") == 2
    records = load_records(tmp_path / "ann")
    assert [r["error"] is not None for r in records][:2] == [True, True]


def _command(model, out):
    return [
        sys.executable,
        "-m",
        "verikit.cli",
        "annotate",
        "--dataset",
        "sums",
        "--split",
        "dev",
        "--limit",
        "16",
        "--generator",
        str(model),
        "--samples",
        "2",
        "--n",
        "3",
        "--max-new-tokens",
        "30",
        "--chunk-size",
        "1",
        "--device",
        "cpu",
        "--out",
        str(out),
    ]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_gives_the_uninterrupted_dataset(toy, toy_lm, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(_command(toy_lm, tmp_path / "reference"), check=True, env=env, capture_output=True)
    reference = load_records(tmp_path / "reference")
    rng = random.Random(1)
    interrupted = tmp_path / "interrupted"
    kills = 0
    for _ in range(4):
        process = subprocess.Popen(
            _command(toy_lm, interrupted), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(3.0, 7.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 2, "the run finished before it could be killed; make it longer"
    finished = subprocess.run(_command(toy_lm, interrupted), check=True, env=env, capture_output=True, text=True)
    assert re.search(r"\d+ solutions \(\d+ duplicates, not rolled out\) of 16 problems", finished.stdout)
    assert load_records(interrupted) == reference


def _labels(folder):
    return {
        (r["problem_id"], r["sample_index"]): (r["solution"], r["hard_labels"], r["soft_labels"])
        for r in load_records(folder)
    }


@pytest.mark.parametrize("strategy", ["naive", "early-exit"])
def test_the_same_seed_gives_the_same_labels_whatever_the_chunk_round_and_batch_sizes(
    toy, toy_lm, tmp_path, strategy, monkeypatch
):
    # every solution and every rollout is drawn from its own keyed stream, so scheduling changes speed, not labels
    import hashlib

    # the random toy model never reaches a gold answer: a verdict that is a coin flip of the text makes labels vary
    monkeypatch.setattr(
        toy.SumChecker, "is_correct", lambda self, text, gold: hashlib.md5(text.encode()).digest()[0] < 80
    )
    slow = config_for(toy_lm, strategy=strategy, limit=6, n_rollouts=4, chunk_size=1, round_size=1, batch_size=3)
    fast = config_for(toy_lm, strategy=strategy, limit=6, n_rollouts=4, chunk_size=6, round_size=4, batch_size=512)
    annotate(slow, tmp_path / "slow", progress=False)
    annotate(fast, tmp_path / "fast", progress=False)
    slow_labels, fast_labels = _labels(tmp_path / "slow"), _labels(tmp_path / "fast")
    labelled = [labels for _, labels, _ in slow_labels.values() if labels]
    assert len(labelled) >= 6 and len({x for labels in labelled for x in labels}) == 2  # real labels, both kinds
    if strategy == "naive":  # measured at every step: soft labels agree too
        assert slow_labels == fast_labels
    else:  # early-exit's soft values count the rollouts it happened to spend: only hard labels are its output
        assert {k: v[:2] for k, v in slow_labels.items()} == {k: v[:2] for k, v in fast_labels.items()}
    other = config_for(toy_lm, strategy=strategy, limit=6, n_rollouts=4, chunk_size=6, seed=1)
    annotate(other, tmp_path / "other", progress=False)
    assert _labels(tmp_path / "other") != slow_labels  # the seed does matter


def test_a_folder_annotated_under_another_seeding_scheme_is_refused_not_finished(toy, toy_lm, tmp_path):
    """A run started before per-sample seeds (its manifest has no seeding scheme) would be finished with labels
    drawn another way: resuming it must stop with the reason, not mix the two."""
    import json

    from verikit.errors import DataError

    out = tmp_path / "ann"
    config = config_for(toy_lm, limit=2, chunk_size=1)
    annotate(config, out, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "per-sample seeds" in manifest["seeding_scheme"]
    annotate(config, out, progress=False)  # the same scheme resumes (here: nothing left to do)
    del manifest["seeding_scheme"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="differs in seeding_scheme: absent here"):
        annotate(config, out, progress=False)
