import os

import pytest

from verikit.errors import DataError
from verikit.paths import data_dir
from verikit.plugins import reset_plugins


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch):
    monkeypatch.delenv("VERIKIT_LOAD_PLUGINS", raising=False)
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture(scope="session")
def shared_data():
    """The real benchmark folder. Required in CI (it lies beside the clone); elsewhere a missing folder skips."""
    try:
        return data_dir()
    except DataError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
