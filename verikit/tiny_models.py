"""Tiny randomly initialised causal LMs with a byte-level BPE trained on your texts.

For smoke runs and tests of real loading code on machines without a model hub: the result is an ordinary
``save_pretrained`` folder (``MistralForCausalLM`` + ``PreTrainedTokenizerFast``) that every
``from_pretrained`` path in verikit reads, with the step tag ``ки`` as one added token and ``+``/``-``
as single tokens, as the PRM convention needs. Its outputs are noise; it checks plumbing, not accuracy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from verikit.format import STEP_TAG


def build_tiny_causal_lm(
    out: str | Path,
    texts: Iterable[str] = (),
    vocab_size: int = 600,
    seed: int = 0,
    tokenizer=None,
    favour: Iterable[str] | Mapping[str, float] = (),
    max_positions: int = 2048,
) -> Path:
    """Write a tiny Mistral and its tokenizer to ``out`` (reused when ``out`` already holds one).

    ``tokenizer``: use this ``PreTrainedTokenizerFast`` instead of a BPE trained on ``texts`` (e.g. one shaped like
    a released model's). ``favour``: strings whose tokens the random model is nudged to emit (so that its
    samples have, say, newlines and therefore steps), each by 0.5 or by the weight a mapping gives it.
    """
    import torch
    from transformers import MistralConfig, MistralForCausalLM

    out = Path(out)
    if (out / "config.json").exists():
        return out
    if tokenizer is None:
        tokenizer = _trained_bpe(texts, vocab_size)
    torch.manual_seed(seed)
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    config = MistralConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        bos_token_id=bos,
        eos_token_id=eos,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = MistralForCausalLM(config)
    with torch.no_grad():
        weights = favour if isinstance(favour, Mapping) else dict.fromkeys(favour, 0.5)
        for text, weight in weights.items():
            for token in tokenizer.encode(text, add_special_tokens=False):
                model.lm_head.weight[token] += weight
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _trained_bpe(texts: Iterable[str], vocab_size: int):
    """A byte-level BPE trained on ``texts``: ``ки`` one added token, ``<s>`` first, padding on the left."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(
        list(texts),
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=["<unk>", "<s>", "</s>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    core.add_tokens([STEP_TAG])
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="</s>",
        padding_side="left",
    )
