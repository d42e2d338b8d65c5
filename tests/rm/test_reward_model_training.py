"""PRM/ORM training on the tests' ``sums`` domain with a tiny model: learning, saved convention, resumption."""

import json

import pytest
from toy_domain import labelled_examples as _examples
from transformers import TrainerCallback

import verikit
from verikit.models import RM_MANIFEST
from verikit.rm.config import PRMConfig
from verikit.rm.training import train_reward_model


def test_prm_training_learns_the_labels_and_saves_its_convention(toy, toy_lm, tmp_path):
    data = _examples()
    config = PRMConfig(base=str(toy_lm), learning_rate=3e-3, epochs=6, batch_size=16)
    summary = train_reward_model(config, data, tmp_path / "prm", progress=False)
    manifest = json.loads((tmp_path / "prm" / RM_MANIFEST).read_text())
    assert manifest["kind"] == "prm" and manifest["examples"] == 48 and not manifest["resumed"]
    assert manifest["trained_tags"] == sum(len(e.steps) for e in data.examples)
    first, last = summary["log_history"][0]["loss"], summary["train_loss"]
    assert last < first  # it learns something from 48 solutions
    scorer = verikit.scorer(tmp_path / "prm")
    scores = scorer.score([e.question for e in data.examples], [e.steps for e in data.examples])
    assert [len(s) for s in scores] == [len(e.steps) for e in data.examples]
    assert not (tmp_path / "prm" / "checkpoints").exists()


def test_dropping_the_labels_after_the_first_error_trains_only_the_tags_up_to_it(toy, toy_lm, tmp_path):
    from verikit.rm.data import first_error_targets

    data = _examples(24)
    kept = sum(t is not None for e in data.examples for t in first_error_targets(e.targets))
    assert kept < sum(len(e.steps) for e in data.examples)  # the toy data has tags after a first error
    config = PRMConfig(base=str(toy_lm), epochs=1, batch_size=8, labels_after_first_error="drop")
    train_reward_model(config, data, tmp_path / "prm", progress=False)
    manifest = json.loads((tmp_path / "prm" / RM_MANIFEST).read_text())
    assert manifest["trained_tags"] == kept
    assert manifest["config"]["labels_after_first_error"] == "drop"


def test_the_first_error_is_the_first_target_below_one_half_and_an_orm_has_none():
    from pydantic import ValidationError

    from verikit.rm.data import first_error_targets

    assert first_error_targets([1.0, 0.0, 0.0, 1.0]) == [1.0, 0.0, None, None]
    assert first_error_targets([0.9, None, 0.25, 0.75]) == [0.9, None, 0.25, None]  # soft labels: below 0.5
    assert first_error_targets([1.0, 0.5]) == [1.0, 0.5]
    with pytest.raises(ValidationError, match="for a PRM"):
        PRMConfig(base="m", objective="orm", labels_after_first_error="drop")


def test_a_prm_with_extra_layers_trains_saves_its_depth_and_scores(toy, toy_lm, tmp_path):
    from transformers import AutoConfig

    data = _examples(24)
    config = PRMConfig(base=str(toy_lm), learning_rate=3e-3, epochs=2, batch_size=8, extra_layers=1)
    summary = train_reward_model(config, data, tmp_path / "prm", progress=False)
    base_depth = AutoConfig.from_pretrained(toy_lm).num_hidden_layers
    assert AutoConfig.from_pretrained(tmp_path / "prm").num_hidden_layers == base_depth + 1
    assert summary["config"]["extra_layers"] == 1
    scores = verikit.scorer(tmp_path / "prm").score(
        [e.question for e in data.examples], [e.steps for e in data.examples]
    )
    assert [len(s) for s in scores] == [len(e.steps) for e in data.examples]


class _Crash(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= 4:
            raise KeyboardInterrupt("simulated kill after the checkpoint at step 4")


def test_a_killed_training_run_resumes_from_its_checkpoint(toy, toy_lm, tmp_path):
    data = _examples(32)
    config = PRMConfig(base=str(toy_lm), objective="orm", learning_rate=1e-3, epochs=4, batch_size=8, save_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train_reward_model(config, data, tmp_path / "orm", progress=False, callbacks=[_Crash()])
    assert any((tmp_path / "orm" / "checkpoints").glob("checkpoint-4"))
    resumed = train_reward_model(config, data, tmp_path / "orm", progress=False)
    fresh = train_reward_model(config, data, tmp_path / "fresh", progress=False)
    assert resumed["resumed"] and not fresh["resumed"]
    assert resumed["global_step"] == fresh["global_step"] == 16
    with pytest.raises(ValueError, match="another configuration"):
        (tmp_path / "orm" / "checkpoints").mkdir()
        (tmp_path / "orm" / "checkpoints" / "verikit_config.json").write_text("{}")
        train_reward_model(config, data, tmp_path / "orm", progress=False)


def test_likelihood_prm_reads_each_steps_tokens_and_round_trips_through_the_scorer(toy, toy_lm, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from verikit.rm.likelihood import LikelihoodFeaturizer, LikelihoodPRM, train_likelihood_prm

    featurizer = LikelihoodFeaturizer(
        AutoModelForCausalLM.from_pretrained(toy_lm), AutoTokenizer.from_pretrained(toy_lm), domain="sums"
    )
    steps = ["Step 1: 2+3=5", "The answer is 5"]
    text, spans = featurizer._layout("2+3=?", steps)
    assert text == "2+3=?\nStep 1: 2+3=5\nThe answer is 5"
    assert [text[a:b] for a, b in spans] == ["Step 1: 2+3=5", "\nThe answer is 5"]  # a step owns its leading newline
    vectors = featurizer.features(["2+3=?"], [steps])[0]
    # one token per character (a step's leading newline included)
    assert [v[3] for v in vectors] == [len("Step 1: 2+3=5"), len("\nThe answer is 5")]
    assert all(v[2] <= v[1] <= 0 for v in vectors)  # min ≤ mean ≤ 0 (log-probabilities)
    assert featurizer.scored_tokens == len(featurizer.tokenizer(text)["input_ids"])

    data = _examples(24)
    summary = train_likelihood_prm(str(toy_lm), data, tmp_path / "lprm", domain="sums")
    assert summary["trained_steps"] == sum(len(e.steps) for e in data.examples)
    assert summary["base"] == str(toy_lm.resolve())  # absolute: the PRM loads from any working directory
    scorer = verikit.scorer(tmp_path / "lprm")
    assert isinstance(scorer, LikelihoodPRM)
    scores = scorer.score([e.question for e in data.examples[:3]], [e.steps for e in data.examples[:3]])
    assert [len(s) for s in scores] == [len(e.steps) for e in data.examples[:3]]
    assert all(0.0 < v < 1.0 for s in scores for v in s)
    assert scorer.scored_tokens > 0 and scorer.scored_tokens == scorer.featurizer.scored_tokens
