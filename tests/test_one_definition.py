"""One definition of each setting: a field added to the library's config is a CLI option and a recipe field with no
other edit (issue 37). The test makes that edit in a copy of the package and asks the CLI and the recipe loader."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import verikit

SOURCE = Path(verikit.__file__).parent


@pytest.mark.slow
def test_a_field_added_to_annotation_settings_is_an_option_and_a_recipe_field(tmp_path):
    copy = tmp_path / "src" / "verikit"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    config = copy / "annotation" / "config.py"
    text = config.read_text()
    anchor = '    model_config = ConfigDict(extra="forbid")\n'
    assert text.count(anchor) >= 1
    start = text.index("class AnnotationSettings(")
    at = text.index(anchor, start) + len(anchor)
    added = (
        '    probe_budget: int = Field(default=3, ge=1, description="A setting added by the test: how many probes.")\n'
    )
    config.write_text(text[:at] + added + text[at:])
    env = {
        "PYTHONPATH": str(copy.parent),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    help_text = subprocess.run(
        [sys.executable, "-m", "verikit.cli", "annotate", "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--probe-budget" in help_text and "how many probes" in help_text
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: r\nmodels: {generator: some/model}\n"
        "annotate: {datasets: [{name: arith-easy, split: train}], probe_budget: 7}\n"
    )
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from verikit.pipeline import load_recipe; "
            "print(load_recipe(sys.argv[1])[0].annotate.probe_budget)",
            str(recipe),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert loaded.strip() == "7"
    imported = subprocess.run(
        [sys.executable, "-c", "import verikit; print(verikit.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert imported.startswith(str(copy))  # the copy, not the installed package, answered
