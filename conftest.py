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
