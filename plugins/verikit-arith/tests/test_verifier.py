"""The verifier base: checked text whose caught lines are wrong moves, and a deeper model whose tag starts as the
newline (a few optimiser steps on a tiny completer: the recipe, not the quality)."""

import dataclasses
import json
import random

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from verikit.format import prm_input
from verikit_arith.expressions import parse
from verikit_arith.labeller import step_correctness
from verikit_arith.plugin import provide_generator
from verikit_arith.problems import canonical_steps, load_split, question_text
from verikit_arith.tokenizer import build_tokenizer
from verikit_arith.training import GeneratorConfig, train_generator
from verikit_arith.verifier import (
    CAUGHT_MARKER,
    LAYOUTS,
    VerifierConfig,
    checked_solution,
    checked_text,
    checked_texts,
    default_verifier_config,
    train_verifier,
)


def test_every_caught_line_is_a_wrong_move_and_the_rest_is_the_reference_solution():
    rng = random.Random(0)
    caught = lines_seen = 0
    for problem in load_split("arith-easy", "train", limit=300):
        expression = parse(problem.metadata["expression"])
        lines = checked_solution(expression, rng, caught_rate=0.3)
        kept = [line for line in lines if not line.endswith(CAUGHT_MARKER)]
        assert kept == canonical_steps(expression)
        for index, line in enumerate(lines):
            if line.endswith(CAUGHT_MARKER):
                before = [x for x in lines[:index] if not x.endswith(CAUGHT_MARKER)]
                wrong = line.removesuffix(CAUGHT_MARKER)
                assert step_correctness(problem, [*before, wrong])[-1] is False, (problem.question, lines)
                caught += 1
        lines_seen += len(kept)
    assert 0.2 < caught / lines_seen < 0.32  # most draws make a mistake; a few kinds are impossible on a step


def test_the_checked_text_never_holds_a_dev_or_test_problem():
    held_out = {p.question for split in ("dev", "test") for p in load_split("arith-easy", split)}
    for layout in LAYOUTS:
        pairs = checked_texts(VerifierConfig(layout=layout), 2000)
        assert not {prompt.strip() for prompt, _ in pairs} & held_out
        assert sum(CAUGHT_MARKER in solution for _, solution in pairs) > 1000


def test_the_prm_layout_is_the_prms_own_text_with_the_marker_after_a_caught_steps_tag():
    rng = random.Random(3)
    expression = parse(load_split("arith-easy", "train", limit=1)[0].metadata["expression"])
    lines = checked_solution(expression, rng, caught_rate=0.5)
    assert any(line.endswith(CAUGHT_MARKER) for line in lines)
    question = question_text(expression)
    prompt, solution = checked_text(question, lines, "prm")
    plain = [line.removesuffix(CAUGHT_MARKER) for line in lines]
    assert prompt + solution.replace(f"ки{CAUGHT_MARKER}", "ки") == prm_input(question, plain)
    assert solution.count(f"ки{CAUGHT_MARKER}\n") == sum(line.endswith(CAUGHT_MARKER) for line in lines)
    prompt, solution = checked_text(question, lines, "generator")
    assert "ки" not in solution and prompt + solution == f"{question}\n" + "\n".join(lines)
    with pytest.raises(ValueError, match="prm, generator"):
        VerifierConfig(layout="tagged")


@pytest.fixture(scope="module")
def tiny_completer(tmp_path_factory):
    config = GeneratorConfig(
        preset="arith-easy", hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, max_steps=2, batch_size=4
    )
    return train_generator("arith-easy", out=tmp_path_factory.mktemp("completer") / "m", config=config, progress=False)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_verifier_base_is_deeper_and_its_tag_starts_as_the_newline(tiny_completer, tmp_path, layout):
    config = VerifierConfig(steps=3, batch_size=4, warmup_steps=1, layout=layout)
    summary = train_verifier(config, tiny_completer, tmp_path / "verifier", progress=False)
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "verifier")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "verifier")
    assert model.config.num_hidden_layers == summary["layers"] == 1 + config.extra_layers
    embeddings = model.get_input_embeddings().weight
    tag, newline = tokenizer.convert_tokens_to_ids("ки"), tokenizer.convert_tokens_to_ids("\n")
    # the generator layout never reads the tag: it is the newline's at the end; the prm layout trains it from there
    assert torch.equal(embeddings[tag], embeddings[newline]) == (layout == "generator")
    assert json.loads((tmp_path / "verifier" / "verikit_verifier.json").read_text())["completer"] == str(tiny_completer)
    longer = dataclasses.replace(VerifierConfig(), steps=10)
    assert VerifierConfig().key("a") != longer.key("a") and VerifierConfig().key("a") != VerifierConfig().key("b")


def test_the_model_provider_knows_the_verifier_role():
    assert provide_generator("arith-easy/verifier?seed=2", check=True) is None
    with pytest.raises(ValueError, match="policy\\|completer\\|verifier"):
        provide_generator("arith-easy/judge", check=True)


def test_a_killed_verifier_run_resumes_from_its_checkpoint_to_the_same_weights(tiny_completer, tmp_path, monkeypatch):
    config = VerifierConfig(steps=5, batch_size=4, warmup_steps=1, checkpoint_every=2)
    train_verifier(config, tiny_completer, tmp_path / "whole", progress=False)
    clip, calls = torch.nn.utils.clip_grad_norm_, []

    def killed_at_the_fourth_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return clip(*args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", killed_at_the_fourth_step)
    with pytest.raises(KeyboardInterrupt):
        train_verifier(config, tiny_completer, tmp_path / "killed", progress=False)
    assert (tmp_path / "killed" / "checkpoint.pt").exists()
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", clip)
    summary = train_verifier(config, tiny_completer, tmp_path / "killed", progress=False)
    assert summary["resumed_from_step"] == 2 and not (tmp_path / "killed" / "checkpoint.pt").exists()
    whole = AutoModelForCausalLM.from_pretrained(tmp_path / "whole").state_dict()
    resumed = AutoModelForCausalLM.from_pretrained(tmp_path / "killed").state_dict()
    for name, value in whole.items():
        assert torch.allclose(value, resumed[name], atol=1e-6), name


def _token_lengths(config, count: int) -> list[int]:
    tokenizer = build_tokenizer()
    pairs = checked_texts(config, count)
    prompts = tokenizer([prompt for prompt, _ in pairs])["input_ids"]
    solutions = tokenizer([solution for _, solution in pairs], add_special_tokens=False)["input_ids"]
    return [len(p) + len(s) + 1 for p, s in zip(prompts, solutions)]  # + the end of text, as training adds it


def test_the_hard_presets_base_reads_its_checked_texts_to_the_end():
    hard = default_verifier_config("arith-hard")
    assert max(_token_lengths(hard, 4000)) <= hard.max_length  # at 128 a quarter lost their last lines
    assert sum(n > 128 for n in _token_lengths(hard, 4000)) > 800
    easy = default_verifier_config("arith-easy", seed=1)
    assert easy == VerifierConfig(preset="arith-easy", seed=1)  # the demo's base (and its cache key) is unchanged
    assert sum(n > easy.max_length for n in _token_lengths(easy, 4000)) < 0.03 * 4000
