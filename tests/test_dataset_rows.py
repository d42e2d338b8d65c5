"""Rows from any dataset loader are checked: a bad row names the dataset, the plugin, the row and the field."""

import pytest

import verikit
from verikit import Problem
from verikit.errors import DataError
from verikit.hookspecs import hookimpl
from verikit.plugins import PluginHost, reset_plugins

GOOD = {"id": "u-1", "question": "3 m in cm?", "gold_answer": "300", "domain": "units"}


def _loader(rows):
    def load(split="test", data_dir=None, limit=None):
        return rows() if callable(rows) else rows

    return load


class UnitsPlugin:
    @hookimpl
    def register_datasets(self, register):
        register("units-dicts", _loader([GOOD, {**GOOD, "id": "u-2", "gold_answer": None}]))
        register("units-missing", _loader([GOOD, {"id": "u-2", "question": "1 km in m?", "domain": "units"}]))
        register("units-built", _loader(lambda: [Problem(id="u-1", question="q", domain="units")]))
        register("units-good", _loader([GOOD, Problem(**{**GOOD, "id": "u-2"})]))
        register("units-not-a-list", _loader(None))


@pytest.fixture
def units():
    reset_plugins(PluginHost(extra_plugins=(UnitsPlugin(),)))
    yield
    reset_plugins()


def test_a_row_without_gold_answer_names_dataset_row_and_field(units):
    with pytest.raises(DataError) as caught:
        verikit.load_dataset("units-missing", split="test")
    expected = "dataset 'units-missing' (plugin UnitsPlugin), row 2: field 'gold_answer': Field required"
    assert str(caught.value) == expected
    assert caught.value.line == 2 and caught.value.field == "gold_answer"


def test_a_wrong_type_is_reported_the_same_way(units):
    with pytest.raises(DataError) as caught:
        verikit.load_dataset("units-dicts")
    assert caught.value.line == 2 and caught.value.field == "gold_answer"


def test_a_problem_the_loader_builds_itself_names_the_dataset(units):
    with pytest.raises(DataError) as caught:
        verikit.load_dataset("units-built")
    assert "dataset 'units-built'" in str(caught.value) and caught.value.field == "gold_answer"


def test_good_rows_come_back_as_problems_and_a_non_list_is_refused(units):
    problems = verikit.load_dataset("units-good")
    assert [p.id for p in problems] == ["u-1", "u-2"] and all(isinstance(p, Problem) for p in problems)
    with pytest.raises(DataError, match="returned NoneType"):
        verikit.load_dataset("units-not-a-list")
