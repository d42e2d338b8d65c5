"""Installing the distribution is all it takes: `verikit plugins` lists it, and uninstalling removes it.

This test runs pip on the environment the tests run in (uninstall, check, reinstall, check) and puts the
plugin back as it found it, even when an assertion fails. Each check is a fresh `verikit plugins --json`
process, so nothing is cached between the states.
"""

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parents[1]
VERIKIT_CLI = [sys.executable, "-c", "import sys; from verikit.cli import main; sys.argv[0] = 'verikit'; main()"]


def _pip(*args):
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True, capture_output=True, text=True)


def _installed() -> bool:
    try:
        metadata.distribution("verikit-medqa")
        return True
    except metadata.PackageNotFoundError:
        return False


def _listed() -> dict:
    result = subprocess.run([*VERIKIT_CLI, "plugins", "--json"], check=True, capture_output=True, text=True)
    data = json.loads(result.stdout)
    return {
        "plugins": {p["name"] for p in data["plugins"]},
        "checkers": {e["name"]: e["plugin"] for e in data["components"]["answer_checkers"]},
        "failures": data["failures"],
    }


@pytest.mark.slow
def test_pip_install_lists_the_plugin_and_uninstall_removes_it():
    was_installed = _installed()
    try:
        if was_installed:
            _pip("uninstall", "--yes", "verikit-medqa")
        absent = _listed()
        assert "medqa" not in absent["plugins"] and "medqa" not in absent["checkers"] and not absent["failures"]

        _pip("install", "--no-deps", "-e", str(PLUGIN_DIR))
        present = _listed()
        assert "medqa" in present["plugins"] and present["checkers"]["medqa"] == "medqa" and not present["failures"]

        _pip("uninstall", "--yes", "verikit-medqa")
        assert "medqa" not in _listed()["checkers"]
    finally:
        if was_installed and not _installed():
            _pip("install", "--no-deps", "-e", str(PLUGIN_DIR))


def test_the_core_has_no_line_that_mentions_this_plugin():
    core = Path(__file__).resolve().parents[3] / "verikit"
    mentions = [
        f"{path}:{number}"
        for path in core.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "medqa" in line.lower()
    ]
    assert not mentions
