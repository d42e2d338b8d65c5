"""KV-cache building blocks of verikit's decoding loops: buffers written in place, and the checks that a model or
a cache attends to the whole sequence (what :mod:`verikit.completers.decoding` and
:mod:`verikit.completers.shared_prefix` both need)."""

from __future__ import annotations

from typing import Any


class KVBuffer:
    """Keys and values in preallocated buffers (``buffer_keys``/``buffer_values``, tokens on the second-to-last
    axis) of which the first ``length`` tokens are filled: an append writes in place (growing the buffers by
    doubling, up to ``capacity``) and ``keys``/``values`` are views of the filled part, so nothing is
    concatenated at every step. Mixed into the cache layers of :mod:`verikit.completers.decoding`; holds the rows'
    own tokens of a :mod:`verikit.completers.shared_prefix` layer once they are kept apart from their prompt's."""

    buffer_keys: Any
    buffer_values: Any
    length: int
    capacity: int

    def _allocate(self, keys, values, size: int, capacity: int) -> None:
        # empty, not zeros: only the filled part is ever read, and zeroing the tail cost a sixth of annotation
        self.capacity, self.length = capacity, keys.shape[-2]
        self.buffer_keys = keys.new_empty(*keys.shape[:-2], size, keys.shape[-1])
        self.buffer_values = values.new_empty(*values.shape[:-2], size, values.shape[-1])
        self.buffer_keys[..., : self.length, :] = keys
        self.buffer_values[..., : self.length, :] = values
        self._views()

    def _views(self) -> None:
        self.keys = self.buffer_keys[..., : self.length, :]
        self.values = self.buffer_values[..., : self.length, :]

    def _append(self, key_states, value_states):
        end = self.length + key_states.shape[-2]
        if end > self.capacity:
            raise RuntimeError(f"KV buffer overflow: {end} tokens > capacity {self.capacity}")
        if end > self.buffer_keys.shape[-2]:
            self._copy(min(self.capacity, max(end, 2 * self.buffer_keys.shape[-2])))
        self.buffer_keys[..., self.length : end, :] = key_states
        self.buffer_values[..., self.length : end, :] = value_states
        self.length = end
        self._views()
        return self.keys, self.values

    def _copy(self, size: int, rows=None) -> None:
        """Fresh buffers of ``size`` tokens holding the filled part (of ``rows`` only, when given)."""
        keys, values = (self.keys, self.values) if rows is None else (self.keys[rows], self.values[rows])
        self.buffer_keys = keys.new_empty(*keys.shape[:-2], size, keys.shape[-1])
        self.buffer_values = values.new_empty(*values.shape[:-2], size, values.shape[-1])
        self.buffer_keys[..., : self.length, :] = keys
        self.buffer_values[..., : self.length, :] = values
        self._views()


def attends_to_everything(model, length: int) -> bool:
    """Whether ``model``'s config promises full attention over sequences of up to ``length`` tokens: no layer
    type other than full attention, no sliding window shorter than that, no logit soft-capping."""
    config = model.config
    window = getattr(config, "sliding_window", None)
    if (window is not None and window < length) or getattr(config, "attn_logit_softcapping", None):
        return False
    layer_types = getattr(config, "layer_types", None)
    return not layer_types or set(layer_types) == {"full_attention"}


def full_attention_layers(cache, capacity: int) -> bool:
    """Whether every layer of ``cache`` attends to the whole sequence of up to ``capacity`` tokens: a plain
    ``DynamicLayer``, or a sliding-window one whose window is longer than that (Mistral-7B-v0.1's 4,096)."""
    from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

    layers = getattr(cache, "layers", None)
    return bool(layers) and all(
        layer.is_initialized
        and (
            type(layer) is DynamicLayer
            or (type(layer) is DynamicSlidingWindowLayer and layer.sliding_window > capacity)
        )
        for layer in layers
    )
