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
a layer and step for 256 prompts × 8 rows with the two-part product, 10-16 ms interleaved). But a query then
reads its group's other rows' tokens and masks them, ``n`` times its own: cheap while the rows' tokens are few
beside the prompt (8 rollouts of 15 tokens after a step prefix of 60-150), ruinous for 64 solutions of 70 tokens
after a 40-token question. So a layer switches once, when a query would read more than ``SEPARATE_AFTER`` (256)
of its siblings' tokens (``(n - 1) × generated > 256``), to the two-part product: the prompt's keys once, each
row's own tokens in a buffer of its own, the two parts' scores in one softmax. (256 timed on the miniature, where
the two-part product costs about what a fused call over 250 more positions does: 64 samples of 125 questions took
13.0 s, 20.3 s always interleaved, 14.2 s always two-part; the annotation 21.6 and 26.4 s against 22.7 s always
interleaved, within this machine's drift; switching at four times the prompt instead cost the annotation 16%.)

**Twins.** Rows of a group that have generated the same tokens so far (all of them, at the first step) have the same
keys, values and logits, and in Monte Carlo annotation they are most rows: a completer that knows the way makes
its 8 rollouts of a step prefix alike (on the miniature, only a quarter of the rollout tokens differ from every
sibling's before them, and the 8 rollouts of 64% of the probed prefixes are one text). So the decoding loop gives
the model one row per distinct sequence (the first row of each set of twins) and :class:`Twins` maps every row
of the cache to it: a layer writes the computed keys and values into each twin's own slot (a row that later draws
another token than its twins already holds its whole history and simply becomes a model row of its own) and the
attention expands the queries to every row and returns the first twins' outputs. Finished rows point at any
model row; their slots are never read. Each row still draws its own token from its (shared) logits, so the
samples are the ones drawn without twins.

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

from verikit.completers.kv_buffers import KVBuffer

NAME = "verikit_shared_prefix"
SEPARATE_AFTER = 256  #: sibling tokens a query may read, masked, before a layer keeps its rows apart
_active = threading.local()  # the cache whose groups the attention function reads (one decode per thread)


class Twins:
    """Which model row computes each cache row: ``source[row]`` is the index, among the model's input rows, of
    the row whose sequence ``row`` repeats; ``firsts[i]`` is the cache row that model row ``i`` is."""

    def __init__(self, source, firsts):
        self.source, self.firsts = source, firsts

    @classmethod
    def of_groups(cls, rows: int, n: int, device=None) -> Twins:
        """Every group of ``n`` rows one sequence: what a group is before its first token."""
        import torch

        return cls(torch.arange(rows, device=device) // n, torch.arange(0, rows, n, device=device))

    def after(self, tokens, done, vocabulary: int) -> Twins:
        """The twins after each row appended ``tokens`` (one per cache row, each below ``vocabulary``): rows that were
        twins and drew the same token stay twins; finished rows (``done``) are computed by none (they point at model
        row 0, and nothing reads their slots)."""
        import torch

        live = (~done).nonzero().squeeze(1)
        classes, inverse = torch.unique(self.source[live] * vocabulary + tokens[live], return_inverse=True)
        order = torch.arange(len(live), device=live.device)
        first_live = torch.full((len(classes),), len(live), device=live.device).scatter_reduce(
            0, inverse, order, reduce="amin"
        )
        source = torch.zeros_like(self.source)
        source[live] = inverse
        return Twins(source, live[first_live])

    def select(self, keep) -> Twins:
        """The twins of rows ``keep`` only, before :meth:`after` renumbers the model rows (no ``firsts`` until then:
        rows dropped with their groups may have been some)."""
        return Twins(self.source[keep], None)


def _twins():
    """The running decode's :class:`Twins`, or ``None`` when every cache row is a model row."""
    return getattr(getattr(_active, "cache", None), "twins", None)


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
                prompt_mask == 0, float("-inf")
            )[:, None, None, :]
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
            self.mask = torch.cat(
                [self.prompt_bias.expand(-1, -1, self.n, -1), own_bias.expand(len(keys), 1, -1, -1)], dim=-1
            )  # (prompts, 1, n, size)
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

        separate = False  # True once the rows' tokens live in buffers of their own (see the module's docstring)

        def update(self, key_states, value_states, *args, **kwargs):
            """Append one token per row (``(rows, kv heads, 1, dim)``) to its group's interleaved part, or to the
            row's own buffer once separate; returns what the attention function reads."""
            if key_states.shape[-2] != 1:
                raise NotImplementedError("shared-prefix decoding appends one token per row and step")
            if (twins := _twins()) is not None:  # each twin's slot gets its model row's keys and values
                key_states, value_states = key_states[twins.source], value_states[twins.source]
            if self.length + 1 > self.capacity:
                raise RuntimeError(f"KV buffer overflow: {self.length + 1} tokens > capacity {self.capacity}")
            if not self.separate and (self.n - 1) * (self.length + 1) > SEPARATE_AFTER:
                self._separate()
            if self.separate:
                self.length += 1
                return self.own._append(key_states, value_states)
            room = (self.buffer_keys.shape[-2] - self.prompt_length) // self.n
            if self.length + 1 > room:
                self._resize(min(self.capacity, 2 * room))
            start = self.prompt_length + self.n * self.length
            prompts, kv_heads, dim = key_states.shape[0] // self.n, key_states.shape[1], key_states.shape[-1]
            self.buffer_keys[..., start : start + self.n, :] = key_states.view(
                prompts, self.n, kv_heads, dim
            ).transpose(1, 2)
            self.buffer_values[..., start : start + self.n, :] = value_states.view(
                prompts, self.n, kv_heads, dim
            ).transpose(1, 2)
            self.length += 1
            self._views()
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.prompt_length + self.length

        def _separate(self) -> None:
            """From here on the prompt's keys/values once per group and each row's own tokens in a
            :class:`~verikit.completers.kv_buffers.KVBuffer` (rows × kv heads × tokens × dim)."""
            filled = self.prompt_length + self.n * self.length
            prompts, kv_heads, _, dim = self.buffer_keys.shape
            own_keys, own_values = (
                buffer[..., self.prompt_length : filled, :]
                .reshape(prompts, kv_heads, self.length, self.n, dim)
                .permute(0, 3, 1, 2, 4)
                .reshape(prompts * self.n, kv_heads, self.length, dim)
                for buffer in (self.buffer_keys, self.buffer_values)
            )
            self.prompt_keys = self.buffer_keys[..., : self.prompt_length, :].clone()
            self.prompt_values = self.buffer_values[..., : self.prompt_length, :].clone()
            self.own = KVBuffer()
            self.own._allocate(own_keys, own_values, min(self.capacity, max(32, 2 * self.length)), self.capacity)
            self.buffer_keys = self.buffer_values = self.mask = None
            self._grouped_masks = {}
            self.separate = True

        def batch_select_indices(self, indices) -> None:
            """Keep rows ``indices``, which must be whole prompts' groups of ``n`` rows, in order."""
            prompts = indices[:: self.n] // self.n
            if self.separate:
                self.prompt_keys, self.prompt_values = self.prompt_keys[prompts], self.prompt_values[prompts]
                self.prompt_bias = self.prompt_bias[prompts]
                self.own._copy(self.own.buffer_keys.shape[-2], rows=indices)
                return
            self._resize((self.buffer_keys.shape[-2] - self.prompt_length) // self.n, prompts=prompts)

    return SharedPrefixLayer


def shared_prefix_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Attention of ``query`` (rows, heads, 1, dim) over its group's cache (``key``/``value``: prompts, kv heads,
    prompt + n × generated, dim), each row seeing the prompt and its own tokens."""
    layer = _active.cache.layers[module.layer_idx]
    window = kwargs.get("sliding_window")
    if (
        kwargs.get("softcap") is not None
        or kwargs.get("s_aux") is not None
        or (window is not None and window < layer.get_seq_length())
    ):
        raise NotImplementedError("shared-prefix decoding does not support soft-capped, windowed or sink attention")
    if query.shape[2] != 1:
        raise NotImplementedError("shared-prefix attention decodes one token per row and step")
    twins = _twins()
    if twins is not None:  # one query per cache row (a twin's is its model row's); the model rows' outputs back
        output, _ = _cache_rows_attention(layer, query[twins.source], key, value, scaling)
        return output[twins.firsts], None
    return _cache_rows_attention(layer, query, key, value, scaling)


def _cache_rows_attention(layer, query, key, value, scaling):
    """Attention of one query per cache row (rows, heads, 1, dim) over its group's prompt and its own tokens."""
    import torch

    rows, heads, _, dim = query.shape
    scaling = dim**-0.5 if scaling is None else scaling
    if layer.separate:
        return _two_part_attention(layer, query, key, value, scaling)
    prompts, kv_heads = key.shape[0], key.shape[1]
    n, group = rows // prompts, heads // kv_heads
    # a group's queries by key/value head, row-major: (prompts, kv heads, n*group, dim)
    grouped = query.view(prompts, n, kv_heads, group, dim).transpose(1, 2).reshape(prompts, kv_heads, n * group, dim)
    mask = layer.mask_for(group)[..., : key.shape[-2]]
    output = torch.nn.functional.scaled_dot_product_attention(grouped, key, value, attn_mask=mask, scale=scaling)
    output = output.view(prompts, kv_heads, n, group, dim).transpose(1, 2)  # (prompts, n, kv heads, group, dim)
    return output.reshape(rows, 1, heads, dim), None  # the layout sdpa_attention_forward returns


def _two_part_attention(layer, query, key, value, scaling: float):
    """Attention of ``query`` (rows, heads, 1, dim) over its prompt (``layer``'s, once per group) and its own tokens
    (``key``/``value``: rows, kv heads, generated, dim): the two parts' scores in one softmax."""
    import torch

    rows, heads, _, dim = query.shape
    prompts, kv_heads, prompt_len, _ = layer.prompt_keys.shape
    n, group = rows // prompts, heads // kv_heads
    q = query.reshape(rows, kv_heads, group, dim)  # queries grouped by key/value head
    # a prompt's n rows together against its prompt: (prompts, kv heads, n*group, prompt length)
    q_by_prompt = (
        q.view(prompts, n, kv_heads, group, dim).permute(0, 2, 1, 3, 4).reshape(prompts, kv_heads, n * group, dim)
    )
    prompt_scores = torch.matmul(q_by_prompt, layer.prompt_keys.transpose(-1, -2)) * scaling + layer.prompt_bias
    prompt_scores = (
        prompt_scores.view(prompts, kv_heads, n, group, prompt_len)
        .permute(0, 2, 1, 3, 4)
        .reshape(rows, kv_heads, group, prompt_len)
    )
    own_scores = torch.matmul(q, key.transpose(-1, -2)) * scaling  # (rows, kv heads, group, generated)
    weights = torch.softmax(torch.cat([prompt_scores, own_scores], dim=-1).float(), dim=-1).to(query.dtype)
    prompt_weights, own_weights = weights[..., :prompt_len], weights[..., prompt_len:]
    prompt_weights = (
        prompt_weights.view(prompts, n, kv_heads, group, prompt_len)
        .permute(0, 2, 1, 3, 4)
        .reshape(prompts, kv_heads, n * group, prompt_len)
    )
    from_prompt = torch.matmul(prompt_weights, layer.prompt_values)  # (prompts, kv heads, n*group, dim)
    from_prompt = (
        from_prompt.view(prompts, kv_heads, n, group, dim).permute(0, 2, 1, 3, 4).reshape(rows, kv_heads, group, dim)
    )
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
