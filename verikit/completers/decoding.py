"""A sampling loop for transformers causal LMs that keeps the KV cache in preallocated buffers.

Why not ``model.generate``: on a CPU with a small model, its default ``DynamicCache`` concatenates every
layer's keys and values at every step (over half of a decoding step's time, measured on the arith
miniature), and its static cache attends over the whole preallocated length at every step. This loop
writes each step's keys and values in place into buffers sized for the prompt plus the token budget and
attends over the filled part only; it encodes each prompt once for its ``n`` samples; and it drops rows
that have finished, so a batch's stragglers do not pay for the rows that stopped long ago. On the
miniature (2 CPU cores) it drew 2,560 samples in 17.3 s where ``generate`` took 24.6 s at the same batch
size, with identical greedy outputs.

It covers what the completers ask of ``generate``: temperature and top-p sampling or greedy decoding up
to ``max_new_tokens`` or the end-of-sequence token. Models whose cache is not made of plain full-attention
``DynamicLayer`` s (sliding windows, linear attention, encoder-decoders) are left to ``generate``:
:func:`buffer_cache` returns ``None`` for them and the caller falls back.
"""

from __future__ import annotations

import functools
from typing import Any

from verikit.errors import Cancelled


def raise_if_cancelled(cancel: Any, what: str = "decoding") -> None:
    """:class:`~verikit.errors.Cancelled` once the ``cancel`` event (a ``threading.Event`` or ``None``) is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} was cancelled")


@functools.cache  # one class, defined on first use (transformers is imported lazily)
def _layer_class():
    from transformers.cache_utils import DynamicLayer

    class BufferLayer(DynamicLayer):
        """A ``DynamicLayer`` whose keys/values live in a preallocated buffer: an update writes in place and
        ``keys``/``values`` are views of the filled part, so nothing is concatenated or reallocated."""

        def __init__(self, keys, values, capacity: int):
            super().__init__()
            self.length = keys.shape[-2]
            self.buffer_keys = keys.new_zeros(*keys.shape[:-2], capacity, keys.shape[-1])
            self.buffer_values = values.new_zeros(*values.shape[:-2], capacity, values.shape[-1])
            self.buffer_keys[..., : self.length, :] = keys
            self.buffer_values[..., : self.length, :] = values
            self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True
            self._views()

        def _views(self) -> None:
            self.keys = self.buffer_keys[..., : self.length, :]
            self.values = self.buffer_values[..., : self.length, :]

        def update(self, key_states, value_states, *args, **kwargs):
            end = self.length + key_states.shape[-2]
            if end > self.buffer_keys.shape[-2]:
                raise RuntimeError(f"KV buffer overflow: {end} tokens > capacity {self.buffer_keys.shape[-2]}")
            self.buffer_keys[..., self.length : end, :] = key_states
            self.buffer_values[..., self.length : end, :] = value_states
            self.length = end
            self._views()
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.length

        def batch_select_indices(self, indices) -> None:
            # copy only the filled part of the kept rows into fresh buffers (the tail is never read)
            keys, values = self.buffer_keys, self.buffer_values
            self.buffer_keys = keys.new_empty(len(indices), *keys.shape[1:])
            self.buffer_values = values.new_empty(len(indices), *values.shape[1:])
            self.buffer_keys[..., : self.length, :] = keys[indices, ..., : self.length, :]
            self.buffer_values[..., : self.length, :] = values[indices, ..., : self.length, :]
            self._views()

    return BufferLayer


def buffer_cache(cache, capacity: int):
    """``cache`` (a ``DynamicCache``) with every layer moved into a buffer of ``capacity`` tokens, or ``None``
    when some layer is not a plain full-attention ``DynamicLayer`` (then use ``generate``)."""
    from transformers.cache_utils import DynamicLayer

    layers = getattr(cache, "layers", None)
    if not layers or any(type(layer) is not DynamicLayer or not layer.is_initialized for layer in layers):
        return None
    buffer_layer = _layer_class()
    cache.layers = [buffer_layer(layer.keys, layer.values, capacity) for layer in layers]
    return cache


def prefill(model, rows: list[list[int]], pad_id: int):
    """Encode all but the last token of each (left-padded) row: ``(cache, last_ids, mask, last_positions)``,
    or ``None`` when some row has a single token (nothing to encode; the caller uses ``generate``)."""
    import torch
    from transformers import DynamicCache

    if min(len(r) for r in rows) < 2:
        return None
    device = model.device
    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad_id] * (width - len(r)) + list(r) for r in rows], device=device)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    from verikit.completers.prefix_cache import cache_keyword

    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        model(input_ids=ids[:, :-1], attention_mask=mask[:, :-1], position_ids=positions[:, :-1], use_cache=True,
              **{cache_keyword(model): cache})
    return cache, ids[:, -1], mask, positions[:, -1]


def _next_tokens(logits, temperature: float, top_p: float, noise):
    """Greedy, or a draw from the tempered (top-p) distribution by the Gumbel-max trick with ``noise``."""
    import torch

    if not temperature or temperature <= 0:
        return logits.argmax(-1)
    scores = logits.float() / temperature
    if top_p < 1.0:
        probs = torch.softmax(scores, dim=-1)
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside = sorted_probs.cumsum(-1) - sorted_probs > top_p  # keep the smallest set reaching top_p
        scores = scores.masked_fill(torch.zeros_like(outside).scatter(-1, order, outside), float("-inf"))
    return (torch.log_softmax(scores, dim=-1) + noise).argmax(-1)


def decode(model, cache, last_ids, mask, last_positions, *, max_new_tokens: int, eos_id: int | None,
           stop_ids: set[int] | frozenset[int] = frozenset(), temperature: float = 1.0, top_p: float = 1.0, generator: Any = None, compact_at: float = 0.25,
           cancel: Any = None) -> list[list[int]]:
    """Generate from a prefilled ``cache`` (one row per sequence; ``last_ids`` are the prompts' last tokens,
    not yet encoded). Returns each row's new tokens, without the end-of-sequence token; a row also ends
    after a token of ``stop_ids``, which it keeps (as a stop string is kept by the completers).

    ``cache`` must come from :func:`buffer_cache` with room for ``max_new_tokens`` more tokens. Finished
    rows are dropped once more than ``compact_at`` of the rows still in the batch have finished. Once the
    ``cancel`` event (a ``threading.Event``) is set, the loop stops before its next step and raises
    :class:`verikit.errors.Cancelled`.
    """
    import torch

    from verikit.completers.prefix_cache import cache_keyword

    keyword = cache_keyword(model)
    rows = torch.arange(len(last_ids), device=last_ids.device)
    generated: list[list[int]] = [[] for _ in range(len(last_ids))]
    done = torch.zeros(len(last_ids), dtype=torch.bool, device=last_ids.device)
    tokens, positions = last_ids, last_positions
    with torch.no_grad():
        for step in range(max_new_tokens):
            raise_if_cancelled(cancel)
            logits = model(input_ids=tokens[:, None], attention_mask=mask, position_ids=positions[:, None],
                           use_cache=True, **{keyword: cache}).logits[:, -1]
            noise = None
            if temperature and temperature > 0:
                # Gumbel noise for every row of the batch, finished or not, so that a row's draws depend on
                # the seed, the step and the row only: dropping rows or stopping early changes no sample
                uniform = torch.rand(len(generated), logits.shape[-1], generator=generator, device=logits.device)
                noise = -torch.log(-torch.log(uniform.clamp_min(1e-20)))[rows]
            tokens = _next_tokens(logits, temperature, top_p, noise)
            ended = tokens == eos_id if eos_id is not None else torch.zeros_like(done)
            for row, token, skip in zip(rows.tolist(), tokens.tolist(), (done | ended).tolist()):
                if not skip:
                    generated[row].append(token)
            for stop_id in stop_ids:
                ended = ended | (tokens == stop_id)
            done = done | ended
            if step == max_new_tokens - 1 or bool(done.all()):
                break
            if done.float().mean() > compact_at:
                keep = (~done).nonzero().squeeze(1)
                rows, tokens, mask, positions, done = rows[keep], tokens[keep], mask[keep], positions[keep], done[keep]
                for layer in cache.layers:
                    layer.batch_select_indices(keep)
            mask = torch.cat([mask, mask.new_ones(len(mask), 1)], dim=1)
            positions = positions + 1
    return generated
