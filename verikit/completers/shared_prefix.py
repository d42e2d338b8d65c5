"""Shared-prefix ("cascade") attention: the ``n`` samples of a prompt read its KV cache once, not ``n`` times.

Monte Carlo annotation asks for ``n`` rollouts of every step prefix. Decoding them as ``n`` rows, each with
its own copy of the prompt's keys and values, makes every decoding step read the prompt ``n`` times, and on
the miniature a rollout is short beside its prompt (about 15 tokens after 60-150), so that read is most of
the step. Here the prompt's keys and values are stored once per prompt and each row keeps only the tokens
it generated; a step's attention is computed in two parts — the ``n`` queries of a prompt together against
its prompt (one read), each query against its own generated tokens — and the two are merged in one
softmax over their concatenated scores, which is exactly attention over the row's whole sequence.

It plugs into transformers as a registered attention function (``AttentionInterface``): the model's own
attention layers, rotary embeddings and cache updates run unchanged and only the attention product is
ours, so any decoder whose attention goes through that interface works (Llama, Mistral, Qwen2, …; grouped
key/value heads included). Sliding windows and soft-capped logits are refused. The idea is FlashInfer's
cascade attention and vLLM's shared-prefix decoding; nothing in transformers or PyTorch offers it for CPU.
"""

from __future__ import annotations

import contextlib
import functools
import threading

NAME = "verikit_shared_prefix"
_active = threading.local()  # the cache whose prompt parts the attention function reads (one decode per thread)


@functools.cache
def layer_class():
    """The cache layer class (defined on first use: transformers is imported lazily)."""
    from transformers.cache_utils import DynamicLayer

    from verikit.completers.kv_buffers import KVBuffer

    class SharedPrefixLayer(KVBuffer, DynamicLayer):
        """One layer's cache: the prompt's keys/values once per prompt, each row's generated ones in a
        :class:`~verikit.completers.kv_buffers.KVBuffer` (32 tokens at first, doubled on demand: most rollouts end
        long before the budget). Rows are prompt-major: rows ``[p*n, (p+1)*n)`` are prompt ``p``'s."""

        def __init__(self, keys, values, prompt_mask, n: int, capacity: int):
            import torch

            DynamicLayer.__init__(self)
            self.n = n
            self.prompt_keys, self.prompt_values = keys, values  # (prompts, kv heads, prompt length, head dim)
            # additive mask over the prompt part: 0 where a token is, -inf on left padding
            self.prompt_bias = torch.zeros(prompt_mask.shape, dtype=keys.dtype, device=keys.device).masked_fill(
                prompt_mask == 0, float("-inf"))[:, None, None, :]
            empty = keys.new_empty(keys.shape[0] * n, keys.shape[1], 0, keys.shape[-1])
            self._allocate(empty, empty, min(capacity, 32), capacity)
            self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True

        def update(self, key_states, value_states, *args, **kwargs):
            return self._append(key_states, value_states)

        def get_seq_length(self) -> int:
            return self.prompt_keys.shape[-2] + self.length

        def batch_select_indices(self, indices) -> None:
            """Keep rows ``indices``, which must be whole prompts' groups of ``n`` rows, in order."""
            prompts = indices[:: self.n] // self.n
            self.prompt_keys, self.prompt_values = self.prompt_keys[prompts], self.prompt_values[prompts]
            self.prompt_bias = self.prompt_bias[prompts]
            self._copy(self.buffer_keys.shape[-2], rows=indices)

    return SharedPrefixLayer


def shared_prefix_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Attention of ``query`` (rows, heads, 1, dim) over its prompt (shared) and its own generated ``key``/``value``."""
    import torch

    layer = _active.cache.layers[module.layer_idx]
    window = kwargs.get("sliding_window")
    if kwargs.get("softcap") is not None or kwargs.get("s_aux") is not None or \
            (window is not None and window < layer.get_seq_length()):
        raise NotImplementedError("shared-prefix decoding does not support soft-capped, windowed or sink attention")
    rows, heads, q_len, dim = query.shape
    if q_len != 1:
        raise NotImplementedError("shared-prefix attention decodes one token per row and step")
    prompts, kv_heads, prompt_len, _ = layer.prompt_keys.shape
    n, group = rows // prompts, heads // kv_heads
    scaling = dim ** -0.5 if scaling is None else scaling
    # queries grouped by key/value head: (rows, kv heads, group, dim)
    q = query.reshape(rows, kv_heads, group, dim)
    # part 1: a prompt's n rows together against its prompt: (prompts, kv heads, n*group, prompt length)
    q_by_prompt = q.view(prompts, n, kv_heads, group, dim).permute(0, 2, 1, 3, 4).reshape(prompts, kv_heads, n * group, dim)
    prompt_scores = torch.matmul(q_by_prompt, layer.prompt_keys.transpose(-1, -2)) * scaling + layer.prompt_bias
    prompt_scores = prompt_scores.view(prompts, kv_heads, n, group, prompt_len).permute(0, 2, 1, 3, 4).reshape(
        rows, kv_heads, group, prompt_len)
    # part 2: each row against the tokens it generated: (rows, kv heads, group, generated)
    own_scores = torch.matmul(q, key.transpose(-1, -2)) * scaling
    weights = torch.softmax(torch.cat([prompt_scores, own_scores], dim=-1).float(), dim=-1).to(query.dtype)
    prompt_weights, own_weights = weights[..., :prompt_len], weights[..., prompt_len:]
    prompt_weights = prompt_weights.view(prompts, n, kv_heads, group, prompt_len).permute(0, 2, 1, 3, 4).reshape(
        prompts, kv_heads, n * group, prompt_len)
    from_prompt = torch.matmul(prompt_weights, layer.prompt_values)  # (prompts, kv heads, n*group, dim)
    from_prompt = from_prompt.view(prompts, kv_heads, n, group, dim).permute(0, 2, 1, 3, 4).reshape(rows, kv_heads, group, dim)
    output = from_prompt + torch.matmul(own_weights, value)  # (rows, kv heads, group, dim)
    return output.reshape(rows, 1, heads, dim), None  # the layout sdpa_attention_forward returns


@functools.cache
def _register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(NAME, shared_prefix_attention)


def shared_cache(model, prefilled, prompt_mask, n: int, capacity: int):
    """``model``'s prompts' ``DynamicCache`` (one row per prompt) turned into shared-prefix layers for ``n`` rows per
    prompt with room for ``capacity`` generated tokens, or ``None`` when the model or a layer does not attend to
    the whole sequence (sliding window, soft-capped logits)."""
    from verikit.completers.kv_buffers import attends_to_everything, full_attention_layers

    length = prompt_mask.shape[1] + capacity
    if not (attends_to_everything(model, length) and full_attention_layers(prefilled, length)):
        return None
    shared = layer_class()
    prefilled.layers = [shared(layer.keys, layer.values, prompt_mask, n, capacity) for layer in prefilled.layers]
    return prefilled


@contextlib.contextmanager
def decoding_with(model, cache):
    """Within the block ``model`` attends through ``cache``'s shared prefixes (its configured attention after).

    It switches the model's attention implementation for the block, so one model must not decode in two
    threads at once (``verikit serve`` runs one model call at a time; a completer was never thread-safe)."""
    _register()
    config = model.config
    before = config._attn_implementation
    _active.cache = cache
    config._attn_implementation = NAME
    try:
        yield
    finally:
        config._attn_implementation = before
        _active.cache = None
