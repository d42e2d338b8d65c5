"""Training the generator: a few seconds' worth on a tiny config, checking the recipe, not the quality."""

import dataclasses
import json

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from verikit.errors import UnknownNameError
from verikit_arith.labeller import step_correctness
from verikit_arith.problems import load_split, make_problem
from verikit_arith.tokenizer import build_tokenizer
from verikit_arith.training import GeneratorConfig, _SolutionDataset, default_config, train_generator, training_texts

TINY = GeneratorConfig(
    preset="arith-easy",
    hidden_size=32,
    num_layers=1,
    num_heads=2,
    intermediate_size=64,
    max_steps=4,
    batch_size=8,
    max_length=96,
)


def test_training_texts_carry_mistakes_at_the_configured_rate_and_never_test_problems():
    config = dataclasses.replace(TINY, mistake_rate=0.3)
    pairs = training_texts(config, 400)
    test_questions = {p.question for p in load_split("arith-easy", "test")}
    assert not {prompt.strip() for prompt, _ in pairs} & test_questions
    wrong = 0
    for prompt, solution in pairs:
        problem = make_problem(prompt.strip().removesuffix("=?"), "arith-easy", "train")
        wrong += not all(step_correctness(problem, solution.split("\n")))
    assert 0.15 < wrong / len(pairs) < 0.35


def test_the_loss_covers_the_solution_and_not_the_prompt():
    tokenizer = build_tokenizer()
    dataset = _SolutionDataset([("1+2=?\n", "Step 1: 1+2=3\nThe answer is 3")], tokenizer, 96)
    row = dataset[0]
    prompt_length = len(tokenizer("1+2=?\n")["input_ids"])
    assert row["labels"][:prompt_length] == [-100] * prompt_length
    assert row["labels"][prompt_length:] == row["input_ids"][prompt_length:]
    assert row["input_ids"][-1] == tokenizer.eos_token_id


def test_a_trained_generator_is_saved_cached_and_reloadable(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIKIT_CACHE", str(tmp_path / "cache"))
    path = train_generator("arith-easy", out=tmp_path / "gen", config=TINY, progress=False)
    summary = json.loads((path / "verikit_generator.json").read_text())
    assert summary["config"]["max_steps"] == 4 and summary["key"] == TINY.key()
    cached = tmp_path / "cache" / "arith" / f"arith-easy-{TINY.key()}"
    assert (cached / "verikit_generator.json").exists()
    model = AutoModelForCausalLM.from_pretrained(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert model.config.vocab_size == len(tokenizer) and model.num_parameters() > 0
    before = (cached / "model.safetensors").stat().st_mtime
    train_generator("arith-easy", out=tmp_path / "again", config=TINY, progress=False)
    assert (cached / "model.safetensors").stat().st_mtime == before  # reused, not retrained
    assert dataclasses.replace(TINY, max_steps=5).key() != TINY.key()


def test_unknown_presets_are_refused_before_any_work():
    with pytest.raises(UnknownNameError, match="arith-hard"):
        default_config("arith-hrd")


def test_wsd_runs_of_different_lengths_share_their_stable_phase(tmp_path, monkeypatch):
    import torch

    short = dataclasses.replace(TINY, schedule="wsd", max_steps=6, decay_steps=2, warmup_steps=1)
    long = dataclasses.replace(short, max_steps=9, decay_steps=3)
    assert short.trunk_key() == long.trunk_key() and short.key() != long.key()
    assert [short.learning_rate_at(s) for s in (0, 3, 4, 5)] == [
        TINY.learning_rate,
        TINY.learning_rate,
        TINY.learning_rate,
        TINY.learning_rate / 2,
    ]
    monkeypatch.setenv("VERIKIT_CACHE", str(tmp_path / "shared"))
    train_generator("arith-easy", config=short, progress=False)
    continued = train_generator("arith-easy", config=long, progress=False)
    summary = json.loads((continued / "verikit_generator.json").read_text())
    assert summary["continued_from_trunk_step"] == 4 and summary["steps_run"] == 5
    monkeypatch.setenv("VERIKIT_CACHE", str(tmp_path / "alone"))
    alone = train_generator("arith-easy", config=long, progress=False)
    assert json.loads((alone / "verikit_generator.json").read_text())["continued_from_trunk_step"] is None
    a, b = AutoModelForCausalLM.from_pretrained(continued), AutoModelForCausalLM.from_pretrained(alone)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.allclose(x, y, atol=1e-6), name  # continuing the trunk is the same run as training it through


def test_schedules_are_checked():
    with pytest.raises(ValueError, match="unknown schedule"):
        dataclasses.replace(TINY, schedule="linear")
    with pytest.raises(ValueError, match="wsd needs"):
        dataclasses.replace(TINY, schedule="wsd", max_steps=4, decay_steps=10)
