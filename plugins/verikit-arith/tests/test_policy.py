"""Choosing the policy on dev: the first rung of the ladder that reaches the target, trained once and measured once."""

import dataclasses
import json

from verikit_arith.policy import DEV_ACCURACY_FILE, POLICY_LADDER, rung_config, select_policy
from verikit_arith.training import GeneratorConfig, _branch_points, default_config

TINY = GeneratorConfig(
    preset="arith-easy",
    hidden_size=32,
    num_layers=1,
    num_heads=2,
    intermediate_size=64,
    max_steps=4,
    batch_size=4,
    max_length=96,
    schedule="wsd",
    decay_steps=2,
    warmup_steps=1,
)


def _steps(model) -> int:
    return json.loads((model / "verikit_generator.json").read_text())["config"]["max_steps"]


def test_the_first_rung_that_reaches_the_target_is_the_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIKIT_CACHE", str(tmp_path / "cache"))
    first = select_policy("arith-easy", base=TINY, ladder=(2, 3), target=0.0, dev_limit=4, progress=False)
    assert _steps(first) == 4 and json.loads((first / DEV_ACCURACY_FILE).read_text())["problems"] == 4
    assert not (tmp_path / "cache" / "arith" / f"arith-easy-{rung_config(TINY, 3).key()}").exists()  # never trained


def test_no_rung_reaching_the_target_gives_the_last_and_each_is_measured_once(tmp_path, monkeypatch):
    monkeypatch.setenv("VERIKIT_CACHE", str(tmp_path / "cache"))
    last = select_policy("arith-easy", base=TINY, ladder=(2, 3), target=1.01, dev_limit=4, progress=False)
    assert _steps(last) == 5
    records = sorted((tmp_path / "cache" / "arith").glob(f"*/{DEV_ACCURACY_FILE}"))
    assert len(records) == 2
    stamps = [r.stat().st_mtime_ns for r in records]
    assert select_policy("arith-easy", base=TINY, ladder=(2, 3), target=1.01, dev_limit=4, progress=False) == last
    assert [r.stat().st_mtime_ns for r in records] == stamps  # kept, not measured again


def test_the_ladders_first_rung_is_the_demos_policy_and_every_rung_is_a_saved_trunk():
    policy = default_config("arith-easy", "policy")
    assert rung_config(policy, POLICY_LADDER["arith-easy"][0]) == policy  # seed 0's policy is the one it always was
    completer = dataclasses.replace(default_config("arith-easy", "completer"), seed=2)
    assert _branch_points(completer) == {200, 300, 450}  # at any seed: the policy at a later rung continues a trunk
    assert _branch_points(dataclasses.replace(TINY, max_steps=9)) == {7}  # not the preset's pair: its own only
