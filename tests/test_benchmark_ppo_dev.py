"""The PPO dev study's config parsing (benchmarks.arith.ppo_dev)."""

import pytest

from benchmarks.arith.ppo_dev import DEFAULT_CONFIGS, parse_config


def test_overrides_are_typed_after_the_config_fields():
    name, overrides = parse_config("warm:learning_rate=3e-5,lam=1,critic_shares_trunk=False,critic_warmup_steps=10,"
                                   "critic_learning_rate=1e-3")
    assert name == "warm"
    assert overrides == {"learning_rate": 3e-5, "lam": 1.0, "critic_shares_trunk": False, "critic_warmup_steps": 10,
                         "critic_learning_rate": 1e-3}
    assert isinstance(overrides["critic_warmup_steps"], int) and isinstance(overrides["lam"], float)
    assert parse_config("plain:") == ("plain", {})


def test_an_unknown_field_is_a_clear_error():
    with pytest.raises(SystemExit, match="'learning_rat' is not a StepPPOConfig field"):
        parse_config("typo:learning_rat=1e-5")


def test_the_default_configs_parse():
    assert len({parse_config(c)[0] for c in DEFAULT_CONFIGS}) == len(DEFAULT_CONFIGS)
