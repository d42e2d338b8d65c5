"""Fixtures shared by the core's and the plugins' tests."""

import os

import pytest

from verikit.errors import DataError
from verikit.paths import data_dir
from verikit.plugins import reset_plugins


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch):
    """Each test sees plugins loaded from the current environment, not a previous test's host."""
    monkeypatch.delenv("VERIKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("VERIKIT_STRICT_PLUGINS", raising=False)
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture(scope="session")
def shared_data_dir():
    """The real benchmark folder (``$VERIKIT_DATA`` or ``../shared/data``); required in CI, else skipped."""
    try:
        return data_dir()
    except DataError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """``run_cli(args)`` runs ``verikit ARGS`` in this process as ``main`` does; returns (exit code, all output).

    Fails the test if anything printed a traceback: every error a user meets is one message.
    """
    import sys

    from verikit.cli import main

    def run(args):
        monkeypatch.setattr(sys, "argv", ["verikit", *map(str, args)])
        monkeypatch.setenv("COLUMNS", "400")  # rich wraps long messages; a message is judged whole
        code = 0
        try:
            main()
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert "Traceback" not in output
        return code, output

    return run
