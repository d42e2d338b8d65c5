"""train_tiny_causal_lm: a real causal LM folder, trained on the solution tokens, reused until its inputs change."""

import json

import pytest

from verikit.tiny_training import MANIFEST, train_tiny_causal_lm

PAIRS = [(f"Double {k}?\n", f"{k} + {k} = {2 * k}. The answer is {2 * k}.") for k in range(40)]
SMALL = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "vocab_size": 200, "steps": 40, "batch_size": 8}


def test_it_learns_reuses_and_retrains(tmp_path):
    import verikit

    folder = train_tiny_causal_lm(tmp_path / "lm", PAIRS, progress=False, **SMALL)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["examples"] == 40 and manifest["final_loss"] < 3.5  # uniform over ~200 tokens: 5.3
    completer = verikit.completer("transformers", model=str(folder), max_new_tokens=12, batch_size=4)
    (text,) = completer.complete(["Double 3?\n"], n=1, temperature=0.0, seed=0)[0]
    assert isinstance(text, str)
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    train_tiny_causal_lm(tmp_path / "lm", PAIRS, progress=False, **SMALL)  # same inputs: reused
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp
    train_tiny_causal_lm(tmp_path / "lm", PAIRS, progress=False, **{**SMALL, "steps": 41})  # changed: trained again
    assert json.loads((folder / MANIFEST).read_text())["settings"]["steps"] == 41


def test_no_pairs_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        train_tiny_causal_lm(tmp_path / "lm", [], progress=False)
