"""Fixtures of the core's tests."""

import pytest

from verikit.tiny_models import build_tiny_causal_lm


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory):
    """A tiny random Mistral with a BPE tokenizer (2,048 positions), saved as a model folder."""
    texts = ["Step 1: 2 + 3 = 5\nStep 2: 5 * 2 = 10\nThe answer is 10."] * 20
    return str(build_tiny_causal_lm(tmp_path_factory.mktemp("tiny") / "model", texts, vocab_size=300))
