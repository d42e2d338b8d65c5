"""Every paper recipe holds the paper's settings as docs/reproducing.md lists them (its settings table): a recipe
cannot drift from the paper silently, and every row names where the paper says it, or that the paper is silent."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

from benchmarks.math.__main__ import RECIPES
from verikit.pipeline import load_recipe

DOC = Path(__file__).resolve().parents[2] / "docs" / "reproducing.md"
_TABLE = re.compile(r"<!-- settings-table:[^>]*-->\n(.*?)<!-- /settings-table -->", re.S)


def settings_rows() -> list[dict]:
    body = _TABLE.search(DOC.read_text()).group(1)
    rows = []
    for line in body.strip().splitlines()[2:]:  # past the header and its rule
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 5, f"a settings row has 5 cells: {line}"
        recipes, field, value, paper, where = cells
        rows.append(
            {
                "recipes": re.findall(r"`([^`]+)`", recipes),
                "field": field.strip("`"),
                "value": yaml.safe_load(value.strip("`")),
                "paper": paper,
                "where": where,
                "line": line,
            }
        )
    return rows


def field_value(obj, path: str):
    """``a.b[name].c[*].d`` on a recipe: attributes and dict keys; ``[x]`` picks the list item named x (or the dict
    key x); ``[*]`` maps the rest of the path over every item."""
    head, _, rest = path.partition(".")
    match = re.fullmatch(r"([\w-]+)(?:\[([^\]]+)\])?", head)
    assert match, f"bad field path {path!r}"
    name, pick = match.groups()
    obj = obj[name] if isinstance(obj, dict) else getattr(obj, name)
    if pick == "*":
        items = list(obj.values()) if isinstance(obj, dict) else list(obj)
        return [field_value(item, rest) if rest else item for item in items]
    if pick is not None:
        obj = obj[pick] if isinstance(obj, dict) else next(item for item in obj if item.name == pick)
    return field_value(obj, rest) if rest else obj


ROWS = settings_rows()
PAPER_RECIPES = sorted(p.stem for p in RECIPES.glob("*.yaml"))


def _recipes_of(row) -> list[str]:
    return [stem for stem in PAPER_RECIPES if any(fnmatch.fnmatch(stem, pattern) for pattern in row["recipes"])]


def test_the_table_has_a_row_for_every_paper_setting_and_covers_every_recipe():
    assert len(ROWS) >= 60
    fields = {row["field"] for row in ROWS}
    for setting in (
        "annotate.samples_per_problem",
        "annotate.deduplicate",
        "annotate.n_rollouts",
        "sample.samples",
        "sample.repeats",
        "score.aggregation",
        "rl.settings.ppo.min_learning_rate",
        "rl.settings.rft.samples",
        "reward_models[*].training.learning_rate",
        "reward_models[*].training.max_length",
    ):
        assert setting in fields, setting
    assert {stem for row in ROWS for stem in _recipes_of(row)} == set(PAPER_RECIPES)


@pytest.mark.parametrize("row", ROWS, ids=[f"{','.join(r['recipes'])}:{r['field']}" for r in ROWS])
def test_each_setting_names_its_source_and_holds_in_every_recipe(row):
    assert re.match(r"(§\d|Table \d|paper silent)", row["where"]), f"say where the paper says it: {row['line']}"
    if row["where"].startswith("paper silent"):
        assert ":" in row["where"], f"a silent setting says verikit's choice and why: {row['line']}"
    recipes = _recipes_of(row)
    assert recipes, f"no recipe matches {row['recipes']}"
    for stem in recipes:
        recipe, _ = load_recipe(RECIPES / f"{stem}.yaml")
        assert field_value(recipe, row["field"]) == row["value"], f"{stem}: {row['field']}"


def test_a_drifted_recipe_fails_the_check(tmp_path):
    """The check can fail: a recipe with another reward-model learning rate does not hold the paper's."""
    text = (RECIPES / "reward-models.yaml").read_text().replace("learning_rate: 1.0e-6", "learning_rate: 2.0e-6")
    (tmp_path / "reward-models.yaml").write_text(text)
    recipe, _ = load_recipe(tmp_path / "reward-models.yaml")
    row = next(r for r in ROWS if r["field"] == "reward_models[*].training.learning_rate")
    assert field_value(recipe, row["field"]) != row["value"]
