"""Shared-prefix ("cascade") attention: the ``n`` samples of a prompt read its KV cache once, not ``n`` times.

Monte Carlo annotation asks for ``n`` rollouts of every step prefix. Decoding them as ``n`` rows, each with
its own copy of the prompt's keys and values, makes every decoding step read the prompt ``n`` times, and on
the miniature a rollout is short beside its prompt (about 15 tokens after 60-150), so that read is most of
the step. Here a prompt's ``n`` rows are decoded as one group: the group's cache holds the prompt's keys and
values once, followed by the tokens its rows generate, interleaved (token ``t`` of row ``j`` at position
``prompt + t*n + j``). A step's attention is then one call of PyTorch's fused attention
(``scaled_dot_product_attention``) per group and layer — the ``n`` queries of the group against the
group's cache, under a mask that lets each query see the prompt and its own row's tokens only — which is
exactly attention over each row's whole sequence. Nothing is concatenated or copied per step: the keys are a
view of the buffer and the mask a view of one built per batch.

Why interleave rather than keep each row's tokens apart and merge two softmaxes: on a CPU the per-row part is
thousands of tiny matrix products, which cost as much as the prompt part (measured on the miniature: 20-22 ms
a layer and step for 256 prompts × 8 rows with the two-part product, 10-16 ms interleaved; a query reads
its group's other rows' tokens and masks them, ``n`` times its own, cheap beside a prompt of 60-150).

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
_active = threading.local()  # the cache whose groups the attention function reads (one decode per thread)


@functools.cache
def layer_class():
    """The cache layer class (defined on first use: transformers is imported lazily)."""
    from transformers.cache_utils import DynamicLayer

    class SharedPrefixLayer(DynamicLayer):
        """One layer's cache for groups of ``n`` rows sharing a prompt: per group, the prompt's keys/values once,
        then the rows' generated ones interleaved, in a buffer with room for 32 tokens a row at first, doubled on
        demand up to ``capacity`` (most rollouts end long before the budget). Rows are prompt-major: rows
        ``[p*n, (p+1)*n)`` are prompt ``p``'s. ``length`` counts the tokens each row has generated."""

        def __init__(self, keys, values, prompt_mask, n: int, capacity: int):
            import torch

            DynamicLayer.__init__(self)
            self.n, self.capacity, self.length = n, capacity, 0
            self.prompt_length = keys.shape[-2]
            # additive mask over the prompt part: 0 where a token is, -inf on left padding: (prompts, 1, 1, prompt)
            self.prompt_bias = torch.zeros(prompt_mask.shape, dtype=keys.dtype, device=keys.device).masked_fill(
                prompt_mask == 0, float("-inf"))[:, None, None, :]
            self.buffer_keys, self.buffer_values = keys, values
            self._resize(min(capacity, 32))
            self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True

        def _resize(self, room: int, prompts=None) -> None:
            """Buffers with ``room`` generated tokens a row holding the filled part (of groups ``prompts`` only)."""
            import torch

            filled = self.prompt_length + self.n * self.length
            keys, values = self.buffer_keys[..., :filled, :], self.buffer_values[..., :filled, :]
            if prompts is not None:
                keys, values, self.prompt_bias = keys[prompts], values[prompts], self.prompt_bias[prompts]
            size = self.prompt_length + self.n * room
            self.buffer_keys = keys.new_empty(*keys.shape[:-2], size, keys.shape[-1])
            self.buffer_values = values.new_empty(*values.shape[:-2], size, values.shape[-1])
            self.buffer_keys[..., :filled, :] = keys
            self.buffer_values[..., :filled, :] = values
            # each row sees its own tokens among its group's interleaved ones
            own = torch.eye(self.n, dtype=torch.bool, device=keys.device).repeat(1, room)
            own_bias = torch.zeros(own.shape, dtype=keys.dtype, device=keys.device).masked_fill(~own, float("-inf"))
            self.mask = torch.cat([self.prompt_bias.expand(-1, -1, self.n, -1),
                                   own_bias.expand(len(keys), 1, -1, -1)], dim=-1)  # (prompts, 1, n, size)
            self._grouped_masks = {1: self.mask}
            self._views()

        def _views(self) -> None:
            filled = self.prompt_length + self.n * self.length
            self.keys = self.buffer_keys[..., :filled, :]
            self.values = self.buffer_values[..., :filled, :]

        def mask_for(self, group: int):
            """The mask for queries ordered row-major with ``group`` query heads per key/value head."""
            if group not in self._grouped_masks:
                self._grouped_masks[group] = self.mask.repeat_interleave(group, dim=2)
            return self._grouped_masks[group]

        def update(self, key_states, value_states, *args, **kwargs):
            """Append one token per row (``(rows, kv heads, 1, dim)``) to its group's interleaved part."""
            if key_states.shape[-2] != 1:
                raise NotImplementedError("shared-prefix decoding appends one token per row and step")
            if self.length + 1 > self.capacity:
                raise RuntimeError(f"KV buffer overflow: {self.length + 1} tokens > capacity {self.capacity}")
            room = (self.buffer_keys.shape[-2] - self.prompt_length) // self.n
            if self.length + 1 > room:
                self._resize(min(self.capacity, 2 * room))
            start = self.prompt_length + self.n * self.length
            prompts, kv_heads, dim = key_states.shape[0] // self.n, key_states.shape[1], key_states.shape[-1]
            self.buffer_keys[..., start : start + self.n, :] = key_states.view(prompts, self.n, kv_heads, dim).transpose(1, 2)
            self.buffer_values[..., start : start + self.n, :] = value_states.view(prompts, self.n, kv_heads, dim).transpose(1, 2)
            self.length += 1
            self._views()
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.prompt_length + self.length

        def batch_select_indices(self, indices) -> None:
            """Keep rows ``indices``, which must be whole prompts' groups of ``n`` rows, in order."""
            self._resize((self.buffer_keys.shape[-2] - self.prompt_length) // self.n, prompts=indices[:: self.n] // self.n)

    return SharedPrefixLayer


def shared_prefix_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Attention of ``query`` (rows, heads, 1, dim) over its group's cache (``key``/``value``: prompts, kv heads,
    prompt + n × generated, dim), each row seeing the prompt and its own tokens."""
    import torch

    layer = _active.cache.layers[module.layer_idx]
    window = kwargs.get("sliding_window")
    if kwargs.get("softcap") is not None or kwargs.get("s_aux") is not None or \
            (window is not None and window < layer.get_seq_length()):
        raise NotImplementedError("shared-prefix decoding does not support soft-capped, windowed or sink attention")
    rows, heads, q_len, dim = query.shape
    if q_len != 1:
        raise NotImplementedError("shared-prefix attention decodes one token per row and step")
    prompts, kv_heads = key.shape[0], key.shape[1]
    n, group = rows // prompts, heads // kv_heads
    # a group's queries by key/value head, row-major: (prompts, kv heads, n*group, dim)
    grouped = query.view(prompts, n, kv_heads, group, dim).transpose(1, 2).reshape(prompts, kv_heads, n * group, dim)
    mask = layer.mask_for(group)[..., : key.shape[-2]]
    output = torch.nn.functional.scaled_dot_product_attention(grouped, key, value, attn_mask=mask,
                                                              scale=dim ** -0.5 if scaling is None else scaling)
    output = output.view(prompts, kv_heads, n, group, dim).transpose(1, 2)  # (prompts, n, kv heads, group, dim)
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
