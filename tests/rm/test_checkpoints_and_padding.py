"""Large-model safeguards of every trainer (verikit.hf_training): the checkpoint plan is made from the free disk before
training, and batches are grouped by length so that little is computed on padding (both counted and reported)."""

import shutil

import pytest
from toy_domain import labelled_examples as _examples

from verikit.errors import VerikitError
from verikit.hf_training import CountingCollator, TrainerSettings, checkpoint_plan
from verikit.rm.config import PRMConfig
from verikit.rm.training import train_reward_model


class _Model:
    """Parameters only: 1,000 of them, all trainable."""

    def parameters(self):
        import torch

        return [torch.nn.Parameter(torch.zeros(1000))]


@pytest.mark.parametrize(
    "free, mode", [(10**9, "resumable"), (4 * (2 * 4000 + 4000), "model"), (4 * (2 * 4000 + 4000) - 1, "none")]
)
def test_auto_keeps_the_most_resumable_checkpoints_that_fit_a_quarter_of_the_disk(tmp_path, free, mode):
    plan = checkpoint_plan(_Model(), TrainerSettings(), tmp_path, free_bytes=free)
    assert plan["mode"] == mode
    assert plan["checkpoint_bytes"] == {"resumable": 16_000, "model": 4000, "none": 0}[mode]
    if mode == "model":
        assert plan["arguments"]["save_only_model"] is True
    if mode == "none":
        assert plan["arguments"] == {"save_strategy": "no"}


def test_a_plan_that_does_not_fit_names_the_sizes(tmp_path):
    with pytest.raises(VerikitError, match=r"checkpoints=resumable: two checkpoints of 0.0 MB and the final model"):
        checkpoint_plan(_Model(), TrainerSettings(checkpoints="resumable"), tmp_path, free_bytes=10)
    with pytest.raises(VerikitError, match=r"the final model needs .* are free"):
        checkpoint_plan(_Model(), TrainerSettings(), tmp_path, free_bytes=10)


def test_a_run_whose_checkpoints_do_not_fit_stops_before_training(toy, toy_lm, tmp_path, monkeypatch):
    import verikit.hf_training as hf

    real = shutil.disk_usage
    monkeypatch.setattr(hf.shutil, "disk_usage", lambda path: real(path)._replace(free=100_000))
    config = PRMConfig(base=str(toy_lm), epochs=1, batch_size=8, checkpoints="resumable")
    trained = []
    monkeypatch.setattr(hf, "train_and_save", lambda *a, **k: trained.append(1))
    with pytest.raises(VerikitError, match=r"not enough disk .* need [\d.]+ MB, 0.1 MB are free"):
        train_reward_model(config, _examples(8), tmp_path / "prm", progress=False)
    assert not trained and not (tmp_path / "prm" / "config.json").exists()


def test_model_only_checkpoints_train_and_report_it(toy, toy_lm, tmp_path):
    config = PRMConfig(base=str(toy_lm), epochs=1, batch_size=8, checkpoints="model", save_steps=2)
    summary = train_reward_model(config, _examples(32), tmp_path / "prm", progress=False)
    assert summary["checkpoints"]["mode"] == "model" and (tmp_path / "prm" / "config.json").exists()


def _varied_examples():
    """Solutions of 1 to 8 steps: lengths that random batches pad heavily."""
    from verikit.rm.data import ExampleSet, StepExample

    examples = []
    for i in range(640):  # enough rows for the sampler's mega-batches (50 batches, or a quarter of the rows)
        steps = [f"{k} + {k} = {2 * k}" for k in range(1 + i % 8)]
        examples.append(StepExample(question=f"Add up {i}.", steps=steps, targets=[1.0] * len(steps), correct=True))
    return ExampleSet(examples=examples)


@pytest.mark.slow
def test_batches_grouped_by_length_compute_little_on_padding(toy, toy_lm, tmp_path):
    grouped = train_reward_model(
        PRMConfig(base=str(toy_lm), epochs=1, batch_size=8), _varied_examples(), tmp_path / "grouped", progress=False
    )
    mixed = train_reward_model(
        PRMConfig(base=str(toy_lm), epochs=1, batch_size=8, group_by_length=False),
        _varied_examples(),
        tmp_path / "mixed",
        progress=False,
    )
    assert grouped["tokens_real"] == mixed["tokens_real"] > 0
    assert grouped["computed_per_real_token"] <= 1.05 < mixed["computed_per_real_token"]
    assert grouped["tokens_per_second"] > 0 and grouped["mfu"] is None  # no GPU peak to divide by here


def test_the_counting_collator_counts_padding():
    import torch

    def collate(rows):
        ids = torch.zeros(len(rows), 4, dtype=torch.long)
        mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])[: len(rows)]
        return {"input_ids": ids, "attention_mask": mask}

    counter = CountingCollator(collate)
    counter([0, 1])
    assert (counter.computed, counter.real) == (8, 6)
