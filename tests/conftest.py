"""Fixtures of the core's tests: tiny models and the tests' own domain (no domain plugin needed)."""

import sys
from pathlib import Path

import pytest

from verikit.plugins import reset_plugins
from verikit.tiny_models import build_tiny_causal_lm

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # the tests' own domain, ``toy_domain``, is imported by name


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    """A tiny random Mistral with a BPE tokenizer (2,048 positions), saved as a model folder."""
    texts = ["Step 1: 2 + 3 = 5\nStep 2: 5 * 2 = 10\nThe answer is 10."] * 20
    return str(build_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "model", texts, vocab_size=300))


@pytest.fixture
def toy(monkeypatch):
    """The core's components and the tests' ``sums`` domain (:mod:`toy_domain`), no installed plugin — in this
    process and in the ones it starts (subprocesses, Ray workers), through the environment."""
    import os

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("VERIKIT_LOAD_PLUGINS", "")
    monkeypatch.setenv("VERIKIT_PLUGINS", "toy_domain")
    reset_plugins()
    import toy_domain

    return toy_domain


@pytest.fixture(scope="session")
def toy_lm(tmp_path_factory):
    """A tiny random Mistral with a character tokenizer, nudged to write newlines (so its samples have steps) and
    to stop now and then (so that rows of one batch end at different steps)."""
    import toy_domain

    return build_tiny_causal_lm(
        tmp_path_factory.mktemp("toy") / "model",
        tokenizer=toy_domain.char_tokenizer(),
        favour={"\n": 0.5, "T": 0.5, "1": 0.5, "+": 0.5, "</s>": 0.55},
        max_positions=256,
    )
