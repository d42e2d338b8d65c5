"""The one override syntax: key paths into mappings and lists, the index one past a list's end appends, and a bad
assignment names itself."""

import pytest

from verikit.errors import DataError
from verikit.overrides import apply_override


def test_overrides_set_nested_keys_and_list_items_and_append_one_past_the_end():
    data = {"sample": {"samples": 64}, "reward_models": [{"name": "orm"}, {"name": "prm"}]}
    apply_override(data, "sample.samples=16")
    apply_override(data, "reward_models.1.training.epochs=8")
    apply_override(data, "reward_models.2={name: extra, kind: prm}")
    apply_override(data, "select.seed=null")
    assert data["sample"]["samples"] == 16 and data["reward_models"][1] == {"name": "prm", "training": {"epochs": 8}}
    assert data["reward_models"][2] == {"name": "extra", "kind": "prm"} and data["select"] == {"seed": None}


@pytest.mark.parametrize("assignment", ["reward_models.4={name: x}", "sample", "reward_models.x.name=y"])
def test_a_bad_override_is_an_error_that_names_it(assignment):
    data = {"sample": {"samples": 64}, "reward_models": [{"name": "orm"}, {"name": "prm"}]}
    with pytest.raises(DataError, match="override"):
        apply_override(data, assignment)
    assert data["reward_models"] == [{"name": "orm"}, {"name": "prm"}]
