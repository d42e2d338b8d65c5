import pytest

from verikit.tiny_models import build_tiny_causal_lm
from verikit_arith.tokenizer import build_tokenizer


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A tiny random model with the arith tokenizer, nudged to write newlines and the answer phrase (so its
    outputs have steps)."""
    return build_tiny_causal_lm(
        tmp_path_factory.mktemp("tiny-arith") / "model",
        tokenizer=build_tokenizer(),
        favour=("\n", "T", "1", "+"),
        max_positions=256,
    )
