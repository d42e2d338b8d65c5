"""Tiny randomly initialised causal LMs with a byte-level BPE trained on your texts.

For smoke runs and tests of real loading code on machines without a model hub: the result is an ordinary
``save_pretrained`` folder (``MistralForCausalLM`` + ``PreTrainedTokenizerFast``) that every
``from_pretrained`` path in verikit reads, with the step tag ``ки`` as one added token and ``+``/``-``
as single tokens, as the PRM convention needs. Its outputs are noise; it checks plumbing, not accuracy.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from verikit.format import STEP_TAG


def build_tiny_causal_lm(out: str | Path, texts: Iterable[str], vocab_size: int = 600, seed: int = 0) -> Path:
    """Write a tiny Mistral and its tokenizer to ``out`` (reused when ``out`` already holds one)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import MistralConfig, MistralForCausalLM, PreTrainedTokenizerFast

    out = Path(out)
    if (out / "config.json").exists():
        return out
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(list(texts), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    core.add_tokens([STEP_TAG])
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                        pad_token="</s>", padding_side="left")
    torch.manual_seed(seed)
    config = MistralConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                           bos_token_id=1, eos_token_id=2, pad_token_id=2)
    out.mkdir(parents=True, exist_ok=True)
    MistralForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
