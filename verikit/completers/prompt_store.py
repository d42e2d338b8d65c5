"""Encoded prompts kept across calls, so that a prompt which is a prefix of one encoded before is not encoded again.

Monte Carlo annotation probes a solution's step prefixes one after another, from the last to the first under
early exit: every later probe's prompt is a token prefix of the first one's, and each comes in a later call of
the completer (the driver answers a round of probes per call). :class:`PromptStore` keeps each prompt's keys and
values as the prefill computed them (one row, no padding) and answers a later prompt from any stored one that
it is a prefix of, cropped: on the arith miniature about two thirds of the prompts are answered so, and
prefilling was a fifth of the annotation's time. A causal model's keys and values for a prefix do not depend
on what follows it, so a cropped entry is what encoding the prompt alone would give (up to floating-point
rounding: the same labels on the miniature, checked by ``benchmarks.annotation_throughput``).

Entries are held on the model's device up to a byte budget, the least recently used dropped first. Lookup
keeps the stored token sequences sorted: the sequences a prompt is a prefix of sort right after it, so one
binary search finds one. vLLM's automatic prefix caching does this by hashed blocks on a GPU; transformers
has nothing of the kind. (:mod:`verikit.completers.prefix_cache` reuses the previous prompt only, within a
call, for the path without verikit's decoding loop.)
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence


class PromptStore:
    """Per prompt (a token tuple), its ``(keys, values)`` per layer, each ``(1, kv heads, tokens, head dim)``."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple[int, ...], list[tuple]] = OrderedDict()  # least recently used first
        self._sorted: list[tuple[int, ...]] = []
        self.reused_tokens = 0  # prompt tokens answered from the store instead of encoded (for cost reports)

    def __len__(self) -> int:
        return len(self._entries)

    def _holder(self, tokens: tuple[int, ...]) -> tuple[int, ...] | None:
        """A stored sequence that starts with ``tokens`` (one sorts right at their place), or ``None``."""
        index = bisect.bisect_left(self._sorted, tokens)
        if index < len(self._sorted) and self._sorted[index][: len(tokens)] == tokens:
            return self._sorted[index]
        return None

    def find(self, tokens: Sequence[int]) -> list[tuple] | None:
        """The layers' ``(keys, values)`` of ``tokens``, cut from a stored sequence that starts with them, or
        ``None``."""
        tokens = tuple(tokens)
        stored = self._holder(tokens)
        if stored is None:
            return None
        self._entries.move_to_end(stored)
        return [(keys[..., : len(tokens), :], values[..., : len(tokens), :]) for keys, values in self._entries[stored]]

    def covers(self, tokens: Sequence[int]) -> bool:
        """Whether :meth:`find` would answer ``tokens`` (without counting as a use)."""
        return self._holder(tuple(tokens)) is not None

    def add(self, tokens: Sequence[int], layers: list[tuple]) -> None:
        """Keep ``layers`` (copied: the batch they were cut from is freed) for ``tokens``, unless a stored sequence
        already starts with them; then drop the least recently used entries beyond the budget."""
        tokens = tuple(tokens)
        if self.max_bytes <= 0 or self.covers(tokens):
            return
        layers = [(keys.clone(), values.clone()) for keys, values in layers]
        size = sum(keys.nbytes + values.nbytes for keys, values in layers)
        if size > self.max_bytes:
            return
        # a stored sequence that is a prefix of this one is covered by it from now on
        index = bisect.bisect_left(self._sorted, tokens)
        while index > 0 and tokens[: len(self._sorted[index - 1])] == self._sorted[index - 1]:
            self._drop(self._sorted[index - 1])
            index -= 1
        bisect.insort(self._sorted, tokens)
        self._entries[tokens] = layers
        self.bytes += size
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, tokens: tuple[int, ...]) -> None:
        layers = self._entries.pop(tokens)
        self.bytes -= sum(keys.nbytes + values.nbytes for keys, values in layers)
        del self._sorted[bisect.bisect_left(self._sorted, tokens)]


def order_for_reuse(store: PromptStore, prompts: Sequence[Sequence[int]]) -> list[int]:
    """Indices of ``prompts`` (token lists) in the order to encode them: first those neither in ``store`` nor a
    prefix of another of them (longest first, as batches are cut), then the rest, which those first ones or the
    store answer (longest first too)."""
    heads = [tuple(p[:-1]) for p in prompts]
    by_tokens = sorted(range(len(prompts)), key=lambda i: heads[i])
    covered = set()
    for position, index in enumerate(by_tokens):
        following = by_tokens[position + 1] if position + 1 < len(by_tokens) else None
        if (following is not None and heads[following][: len(heads[index])] == heads[index]) or store.covers(
            heads[index]
        ):
            covered.add(index)
    fresh = sorted((i for i in range(len(prompts)) if i not in covered), key=lambda i: -len(prompts[i]))
    answered = sorted(covered, key=lambda i: -len(prompts[i]))
    return fresh + answered


def stored_prefill(store: PromptStore, model, rows: list[list[int]], pad_id: int):
    """What :func:`verikit.completers.decoding.prefill` returns for ``rows``, built from ``store`` when it holds every
    row's prompt, else encoded (and each row's prompt stored): ``(cache, last_ids, mask, last_positions)``, or ``None``
    where ``prefill`` gives ``None``."""
    from verikit.completers.decoding import left_padded, prefill
    from verikit.completers.prefix_cache import layer_tensors, stacked_cache

    found = [store.find(row[:-1]) for row in rows]
    if any(layers is None for layers in found):
        prefilled = prefill(model, rows, pad_id)
        if prefilled is not None:
            width = max(len(r) for r in rows)
            tensors = layer_tensors(prefilled[0])
            for number, row in enumerate(rows):
                start = width - len(row)  # the row's first token, after its left padding
                store.add(
                    row[:-1],
                    [
                        (keys[number : number + 1, :, start:, :], values[number : number + 1, :, start:, :])
                        for keys, values in tensors
                    ],
                )
        return prefilled
    ids, mask = left_padded(rows, pad_id, model.device)
    store.reused_tokens += sum(len(r) - 1 for r in rows)
    return stacked_cache(found, ids.shape[1] - 1, 1, model.config), ids[:, -1], mask, mask.sum(1) - 1
