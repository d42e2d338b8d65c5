"""Reward-model training keeps fp32 master weights: a checkpoint saved in bf16 trains as an fp32 one does.

At the paper's learning rate (2e-6) one AdamW step moves a weight by about 2e-6 — far below bf16's resolution
near 1 (2^-8) — so bf16 weights updated in place barely change; transformers loads a bf16 checkpoint in bf16
unless told otherwise.
"""

import pytest

from verikit.rm.config import PRMConfig
from verikit.rm.data import ExampleSet, StepExample
from verikit.tiny_models import build_tiny_causal_lm


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = tmp_path_factory.mktemp("precision")
    texts = ["Step 1: 2 + 3 = 5\nStep 2: 5 * 2 = 10\nThe answer is 10."] * 20
    fp32 = build_tiny_causal_lm(root / "fp32", texts, vocab_size=300)
    bf16 = root / "bf16"
    AutoModelForCausalLM.from_pretrained(fp32, dtype=torch.float32).to(torch.bfloat16).save_pretrained(bf16)
    AutoTokenizer.from_pretrained(fp32).save_pretrained(bf16)
    return {"fp32": str(fp32), "bf16": str(bf16)}


def _examples():
    steps = ["Step 1: 2 + 3 = 5", "Step 2: 5 * 2 = 11", "The answer is 11."]
    return ExampleSet(
        [
            StepExample("What is (2 + 3) * 2?", steps, [1.0, 0.0, 0.0]),
            StepExample(
                "What is (2 + 3) * 2?", steps[:1] + ["Step 2: 5 * 2 = 10", "The answer is 10."], [1.0, 1.0, 1.0]
            ),
        ]
        * 4
    )


def _moved_share(base: str, trained, tmp_path) -> float:
    """The share of the base's weights that training changed (both read in fp32)."""
    import torch
    from transformers import AutoModelForCausalLM

    before = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).state_dict()
    after = AutoModelForCausalLM.from_pretrained(trained, dtype=torch.float32).state_dict()
    changed = total = 0
    for name, weight in before.items():
        # the output layer's rows of tokens other than + and - get no gradient from the tag loss; embeddings likewise
        if name in after and after[name].shape == weight.shape and "embed" not in name and "lm_head" not in name:
            changed += int((after[name] != weight).sum())
            total += weight.numel()
    return changed / total


def _train(base: str, out, precision: str = "auto") -> str:
    from verikit.rm.training import train_reward_model

    config = PRMConfig(
        base=base,
        learning_rate=2e-6,
        epochs=1,
        batch_size=4,
        warmup_ratio=0.0,
        precision=precision,
        save_dtype="float32",
    )
    train_reward_model(config, _examples(), out, progress=False)
    return str(out)


def test_a_bf16_checkpoint_trains_like_an_fp32_one(bases, tmp_path):
    from_fp32 = _moved_share(bases["fp32"], _train(bases["fp32"], tmp_path / "a"), tmp_path)
    from_bf16 = _moved_share(bases["bf16"], _train(bases["bf16"], tmp_path / "b"), tmp_path)
    assert from_fp32 > 0.9
    assert from_bf16 > 0.9 and abs(from_bf16 - from_fp32) < 0.05


def test_bf16_weights_asked_for_lose_the_small_updates(bases, tmp_path):
    """The contrast that shows the test above can fail: weights held in bf16 barely move at lr 2e-6."""
    assert _moved_share(bases["bf16"], _train(bases["bf16"], tmp_path / "c", precision="bf16"), tmp_path) < 0.2


def test_lora_trains_adapters_and_saves_a_plain_merged_model(bases, tmp_path):
    pytest.importorskip("peft")
    from verikit.components import load_scorer
    from verikit.rm.training import train_reward_model

    config = PRMConfig(
        base=bases["fp32"], learning_rate=1e-2, epochs=1, batch_size=4, lora_rank=4, gradient_checkpointing=True
    )
    summary = train_reward_model(config, _examples(), tmp_path / "lora", progress=False)
    assert summary["precision"] == "fp32"
    assert not (tmp_path / "lora" / "adapter_config.json").exists()  # merged: no peft needed to read it
    assert _moved_share(bases["fp32"], str(tmp_path / "lora"), tmp_path) > 0.1
    scores = load_scorer(tmp_path / "lora").score(
        ["What is (2 + 3) * 2?"], [["Step 1: 2 + 3 = 5", "The answer is 10."]]
    )
    assert len(scores[0]) == 2 and all(0.0 <= s <= 1.0 for s in scores[0])
