"""Reusing the KV cache of a prompt prefix across rollouts and across the steps of one solution.

Monte Carlo annotation asks for ``n`` rollouts from every step prefix of a solution, and the prefix of
step k+1 extends the prefix of step k. Re-encoding each prompt for each rollout repeats almost all of the
work. :class:`PrefixCache` keeps the KV cache of the last prompt it encoded; the next prompt reuses the
longest common *token* prefix (a cropped copy of that cache) and encodes only what is new, and the
``n`` rollouts share one encoded prompt (the cache is repeated along the batch, not recomputed). This
is vLLM's prefix caching done by hand for transformers models, which have no such feature of their own.

Only models whose cache can be cropped (``DynamicCache``: full-attention decoders such as Llama and
Mistral) take this path; the completer falls back to plain batched sampling for the rest.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence


def cache_keyword(model) -> str:
    """``cache`` in newer transformers, ``past_key_values`` before (the old name still works there, with a warning)."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    limit = min(len(a), len(b))
    for index in range(limit):
        if a[index] != b[index]:
            return index
    return limit


class PrefixCache:
    """The KV cache of the last encoded prompt, reused for the next prompt's common token prefix."""

    def __init__(self, model):
        self.model = model
        self.keyword = cache_keyword(model)
        self.ids: list[int] = []
        self.cache = None
        self.encoded_tokens = 0  # tokens run through the model to build caches (for cost reports)
        self.reused_tokens = 0

    def cache_for(self, ids: Sequence[int]):
        """The cache of ``ids[:-1]`` (generation feeds the last prompt token itself). Read it, do not change it:
        it is also the starting point for the next prompt."""
        import torch
        from transformers import DynamicCache

        target = list(ids[:-1])
        common = common_prefix_length(self.ids, target) if self.cache is not None else 0
        if common:
            cache = copy.deepcopy(self.cache)
            cache.crop(common - cache.get_seq_length())  # a negative count removes tokens in every version
        else:
            cache = DynamicCache(config=self.model.config)
        if len(target) > common:
            device = self.model.device
            with torch.no_grad():
                self.model(
                    input_ids=torch.tensor([target[common:]], device=device),
                    use_cache=True,
                    cache_position=torch.arange(common, len(target), device=device),
                    **{self.keyword: cache},
                )
        self.encoded_tokens += len(target) - common
        self.reused_tokens += common
        self.ids, self.cache = target, cache
        return cache


def layer_tensors(cache) -> list[tuple]:
    """``(keys, values)`` per layer, each ``[batch, heads, length, head_dim]`` (transformers 4.5x and 5.x layouts)."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))


def batched_cache(caches: Sequence, length: int, repeats: int, config):
    """One cache for a left-padded batch of ``caches`` (one row each): :func:`stacked_cache` of their tensors."""
    return stacked_cache([layer_tensors(c) for c in caches], length, repeats, config)


def stacked_cache(rows: Sequence[Sequence[tuple]], length: int, repeats: int, config):
    """One ``DynamicCache`` for a left-padded batch from each row's ``(keys, values)`` per layer (``[1, heads,
    tokens, head_dim]``): left-padded with zeros to ``length`` tokens (the padding is masked out by the attention
    mask; zeros, since 0 times garbage may be NaN), stacked, and each row repeated ``repeats`` times.

    Rotary positions stay right: a prompt's cached keys were rotated at 0..L-2, and with left padding
    transformers numbers the next token from the attention mask, i.e. L-1.
    """
    from transformers import DynamicCache

    merged = DynamicCache(config=config)
    for layer in range(len(rows[0])):
        key, value = rows[0][layer]
        keys = key.new_zeros(len(rows), key.shape[1], length, key.shape[-1])
        values = value.new_zeros(len(rows), value.shape[1], length, value.shape[-1])
        for number, tensors in enumerate(rows):
            k, v = tensors[layer]
            keys[number, :, length - k.shape[-2] :] = k[0]
            values[number, :, length - v.shape[-2] :] = v[0]
        if repeats > 1:
            keys, values = keys.repeat_interleave(repeats, dim=0), values.repeat_interleave(repeats, dim=0)
        merged.update(keys, values, layer)
    return merged
