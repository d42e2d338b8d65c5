"""The default completer: any Hugging Face causal LM, batched sampling, CPU by default and CUDA when present.

``verikit.completer("transformers", model="path/or/hub-id")`` loads with ``from_pretrained``; a model
object and its tokenizer can be passed directly too. Prompts are left-padded and batched (the ``n``
samples of a prompt share its batch), sorted by length to waste little padding, and the outputs are
returned in the input order. The same seed and inputs give the same outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verikit.completers.decoding import left_padded, raise_if_cancelled
from verikit.completers.prompt_store import PromptStore, order_for_reuse, stored_prefill
from verikit.interfaces import Completer, Completions


def pick_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to and including the earliest occurrence of any stop string."""
    ends = [text.find(s) + len(s) for s in stop if s and s in text]
    return text[: min(ends)] if ends else text


#: Seeds are reduced into this range; every per-batch seed derived from them stays below 2**64.
_SEED_RANGE = 2**44


class TransformersCompleter(Completer):
    """Batched sampling from a causal LM with ``model.generate``.

    Args:
        model: a path or hub id for ``AutoModelForCausalLM.from_pretrained``, or a loaded model.
        tokenizer: a tokenizer or path (default: the model's own).
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``, …
        batch_size: sequences per ``generate`` call (prompts × n).
        max_new_tokens: default cap on generated tokens (overridable per call).
        cache_implementation: ``"static"`` preallocates the KV cache (about 2x faster sampling on CPU than
            growing it step by step); models that cannot use it fall back to the dynamic cache.
        prefix_cache: encode each prompt once for its ``n`` rollouts and reuse the KV cache of a shared
            token prefix from one prompt to the next (:mod:`verikit.completers.prefix_cache`). Pays off when
            prompts are long and share prefixes, as the step prefixes of Monte Carlo annotation do.
        buffered: decode with verikit's own loop over a preallocated KV cache (:mod:`verikit.completers.decoding`;
            each prompt encoded once for its ``n`` samples, finished rows dropped) instead of ``generate``.
            Models or stop strings it cannot serve fall back to ``generate`` on their own.
        shared_prefix: in the buffered loop, keep a prompt's KV cache once for its ``n`` samples and attend
            to it with shared-prefix attention (:mod:`verikit.completers.shared_prefix`) instead of ``n``
            copies; same outputs, fewer bytes read per step. Used when ``n`` > 1 and the model allows it.
        twins: with shared-prefix attention, run the model once for the samples of a prompt that have generated
            the same tokens so far (:class:`verikit.completers.shared_prefix.Twins`); same samples, a fraction of
            the compute when the model is confident (a Monte Carlo completer's rollouts mostly are alike).
        prompt_cache_mb: in the buffered loop, keep the encoded prompts (up to this many MiB on the model's
            device, least recently used out) and answer a later prompt that is a token prefix of one of them
            without encoding it (:mod:`verikit.completers.prompt_store`; what Monte Carlo annotation's step
            prefixes are). 0 (the default) keeps nothing; the annotation driver asks for 1,024. Entries hold the
            weights' keys and values as they were: leave it at 0 for a model being trained (step-PPO's sampler).

    ``complete(..., sample_seeds=...)`` (one seed per sample) draws every sample from its own keyed stream
    (:func:`verikit.completers.decoding.keyed_uniforms`): a sample then depends on its prompt, its seed and
    the sampling settings only, not on the batch it shares, the batch size or the call it comes in.
    """

    name = "transformers"

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        device: str = "auto",
        batch_size: int = 256,
        max_new_tokens: int = 256,
        dtype: str | None = None,
        cache_implementation: str | None = "static",
        prefix_cache: bool = False,
        buffered: bool = True,
        shared_prefix: bool = True,
        prompt_cache_mb: int = 0,
        twins: bool = True,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from verikit.models import load_pretrained

        self.device = pick_device(device)
        if isinstance(model, str):
            torch_dtype = getattr(torch, dtype) if dtype else None
            self.model_name = model
            model = load_pretrained(AutoModelForCausalLM, model, dtype=torch_dtype)
            tokenizer = tokenizer or load_pretrained(AutoTokenizer, self.model_name)
        else:
            self.model_name = getattr(model.config, "_name_or_path", "") or type(model).__name__
        if isinstance(tokenizer, str):
            tokenizer = load_pretrained(AutoTokenizer, tokenizer)
        if tokenizer is None:
            raise ValueError("a model object needs its tokenizer: TransformersCompleter(model, tokenizer=...)")
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.cache_implementation = cache_implementation
        self.prefix_cache = prefix_cache
        self.buffered = buffered
        self.shared_prefix = shared_prefix
        self.twins = twins
        self.prompt_store = PromptStore(prompt_cache_mb * 2**20)
        self._stop_token_ids: dict[tuple[str, ...], set[int] | None] = {}
        self._cancel = None  # the current call's cancel event (set by ``complete``)
        self.generated_tokens = 0  # running total, for cost reports

    def complete(
        self,
        prompts: Sequence[str],
        n: int = 1,
        *,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int | None = None,
        stop: Sequence[str] | None = None,
        seed: int = 0,
        progress: Any = None,
        cancel: Any = None,
        sample_seeds: Sequence[Sequence[int]] | None = None,
    ) -> Completions:
        stop = self.checked_stop(n, stop)
        if not prompts:
            return Completions([], [])
        seed = seed % _SEED_RANGE  # torch seeds are 64-bit; any int the caller chose maps into them
        sample_seeds = self.checked_sample_seeds(prompts, n, sample_seeds)
        kwargs = self._sampling_kwargs(temperature, top_p, max_new_tokens, stop)
        self._cancel = cancel
        results: list[list[str]] = [[] for _ in prompts]
        counts: list[list[int]] = [[] for _ in prompts]
        settings = {"max_new_tokens": kwargs["max_new_tokens"], "temperature": temperature, "top_p": top_p}
        prefixes = None
        if self.prefix_cache:
            from verikit.completers.prefix_cache import PrefixCache

            prefixes = PrefixCache(self.model)
        if self._complete_buffered(prompts, n, settings, stop, seed, progress, results, counts, prefixes, sample_seeds):
            if prefixes is not None:
                self.prompt_tokens_encoded, self.prompt_tokens_reused = prefixes.encoded_tokens, prefixes.reused_tokens
        elif sample_seeds is not None:
            raise NotImplementedError(
                f"model {self.model_name!r} cannot draw keyed samples (sample_seeds): verikit's "
                "decoding loop does not serve it (buffered=False, a stop string of several "
                "tokens, or a cache that is not plain full attention)"
            )
        elif self.prefix_cache:
            self._complete_reusing_prefixes(prompts, n, kwargs, stop, seed, progress, results, counts)
        else:
            self._complete_batched(prompts, n, kwargs, stop, seed, progress, results, counts)
        return Completions(results, counts)

    def context_window(self) -> int | None:
        return getattr(self.model.config, "max_position_embeddings", None)

    def supports_sample_seeds(self) -> bool:
        """Keyed samples need verikit's decoding loop, which serves models with full attention over any length
        they take (a model with a shorter sliding window is left to ``generate``, which cannot key samples)."""
        from verikit.completers.kv_buffers import attends_to_everything

        return self.buffered and attends_to_everything(self.model, self.context_window() or 0)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=True)["input_ids"]]

    def _sampling_kwargs(self, temperature, top_p, max_new_tokens, stop) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(
            max_new_tokens=max_new_tokens or self.max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        if temperature and temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        return kwargs

    def _collect(self, new_tokens, indices, n, stop, results, counts) -> None:
        """Decode rows ``[k*n, (k+1)*n)`` of ``new_tokens`` (a padded tensor) as the continuations of prompt
        ``indices[k]``."""
        row_tokens = (new_tokens != self.tokenizer.pad_token_id).sum(dim=1).tolist()
        self._record(
            self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True),
            row_tokens,
            indices,
            n,
            stop,
            results,
            counts,
        )

    def _record(self, texts, row_tokens, indices, n, stop, results, counts) -> None:
        """File row ``k*n + j``'s text (cut at ``stop``) and token count under prompt ``indices[k]``."""
        self.generated_tokens += sum(row_tokens)
        for position, index in enumerate(indices):
            for row in range(position * n, (position + 1) * n):
                results[index].append(cut_at_stop(texts[row], stop) if stop else texts[row])
                counts[index].append(row_tokens[row])

    def _complete_batched(self, prompts, n, kwargs, stop, seed, progress, results, counts) -> None:
        """Many prompts per ``generate`` call (left-padded, longest first), each repeated ``n`` times."""
        order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
        prompts_per_batch = max(1, self.batch_size // n)
        for batch_number, start in enumerate(range(0, len(order), prompts_per_batch)):
            indices = order[start : start + prompts_per_batch]
            encoded = self.tokenizer([prompts[i] for i in indices], return_tensors="pt", padding=True).to(self.device)
            # each prompt n times in a row (what num_return_sequences does, but greedy decoding allows it too)
            encoded = {key: value.repeat_interleave(n, dim=0) for key, value in encoded.items()}
            output = self._generate(encoded, kwargs, seed * 1_000_003 + batch_number)
            self._collect(output[:, encoded["input_ids"].shape[1] :], indices, n, stop, results, counts)
            raise_if_cancelled(self._cancel, "the completion")
            if progress is not None:
                progress(len(indices))

    def _buffered_stop_ids(self, stop) -> set[int] | None:
        """Token ids that end a row for ``stop``, or ``None`` when the buffered loop cannot honour it: each stop
        string must be one token that no other token contains (true of a character-level vocabulary)."""
        key = tuple(stop or ())
        if key not in self._stop_token_ids:
            ids: set[int] | None = set()
            for text in key:
                encoded = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                if len(encoded) != 1 or sum(text in piece for piece in self._pieces()) != 1:
                    ids = None
                    break
                ids.add(encoded[0])
            self._stop_token_ids[key] = ids
        return self._stop_token_ids[key]

    def _pieces(self) -> list[str]:
        if not hasattr(self, "_piece_texts"):
            self._piece_texts = [self.tokenizer.decode([i]) for i in range(len(self.tokenizer))]
        return self._piece_texts

    def _complete_buffered(
        self, prompts, n, settings, stop, seed, progress, results, counts, prefix_cache=None, sample_seeds=None
    ) -> bool:
        """The buffered loop for every batch; ``False`` (having produced nothing) when this model cannot take it."""
        import torch

        from verikit.completers import shared_prefix
        from verikit.completers.decoding import buffer_cache, decode, prefill

        if not self.buffered or (stop_ids := self._buffered_stop_ids(stop)) is None:
            return False
        encoded = [self.tokenizer(p)["input_ids"] for p in prompts]
        if min(len(e) for e in encoded) < 2:  # a one-token prompt leaves nothing to prefill
            return False
        store = self.prompt_store if self.prompt_store.max_bytes > 0 and prefix_cache is None else None
        # token order: a step prefix comes right before its extensions (what the prefix cache reuses); with the
        # prompt store, the prompts it cannot answer first, so that the rest are answered once those are encoded
        order = (
            sorted(range(len(prompts)), key=lambda i: encoded[i])
            if prefix_cache
            else order_for_reuse(store, encoded)
            if store is not None
            else sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
        )
        prompts_per_batch = max(1, self.batch_size // n)
        pad, eos = self.tokenizer.pad_token_id, self.tokenizer.eos_token_id
        for batch_number, start in enumerate(range(0, len(order), prompts_per_batch)):
            indices = order[start : start + prompts_per_batch]
            rows = [encoded[i] for i in indices]
            if prefix_cache is not None:
                from verikit.completers.prefix_cache import batched_cache

                width = max(len(r) for r in rows)
                cache = batched_cache([prefix_cache.cache_for(r) for r in rows], width - 1, n, self.model.config)
                ids, mask = left_padded(rows, pad, self.device)
                last, positions = ids[:, -1], mask.sum(1) - 1
            elif store is not None:
                cache, last, mask, positions = stored_prefill(store, self.model, rows, pad)
            else:
                cache, last, mask, positions = prefill(self.model, rows, pad)
            group = 1
            if prefix_cache is None:
                if (
                    n > 1
                    and self.shared_prefix
                    and shared_prefix.shared_cache(self.model, cache, mask[:, :-1], n, settings["max_new_tokens"] + 1)
                ):
                    group = n  # the prompt's cache stays one row; its n samples attend to it together
                else:
                    cache.batch_repeat_interleave(n)
            if group == 1 and buffer_cache(cache, mask.shape[1] + settings["max_new_tokens"]) is None:
                assert batch_number == 0, "a model's cache layout does not change between batches"
                return False  # this model's cache is not plain full attention: generate() serves it
            generator = torch.Generator(device=self.device).manual_seed(seed * 1_000_003 + batch_number)
            row_seeds = (
                None
                if sample_seeds is None
                else torch.tensor([s for i in indices for s in sample_seeds[i]], dtype=torch.int64, device=self.device)
            )
            new_tokens = decode(
                self.model,
                cache,
                last.repeat_interleave(n),
                mask.repeat_interleave(n, dim=0),
                positions.repeat_interleave(n),
                max_new_tokens=settings["max_new_tokens"],
                eos_id=eos,
                stop_ids=stop_ids,
                temperature=settings["temperature"],
                top_p=settings["top_p"],
                generator=generator,
                row_seeds=row_seeds,
                group=group,
                cancel=self._cancel,
                twins=self.twins,
            )
            # a row that stopped short of the budget without a stop token ended on end-of-sequence, which
            # the loop does not return but generate() counts: count it too
            budget = settings["max_new_tokens"]
            lengths = [
                len(t) + (eos is not None and len(t) < budget and not (t and t[-1] in stop_ids)) for t in new_tokens
            ]
            self._record(
                self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True),
                lengths,
                indices,
                n,
                stop,
                results,
                counts,
            )
            raise_if_cancelled(self._cancel, "the completion")
            if progress is not None:
                progress(len(indices))
        return True

    def _complete_reusing_prefixes(self, prompts, n, kwargs, stop, seed, progress, results, counts) -> None:
        """Like the batched path, but every prompt is encoded once: its KV cache is built from the previous
        prompt's where they share a token prefix (prompts are visited in token order, so a step prefix comes
        right before its extensions), and the batch's caches are left-padded, stacked and repeated for the
        ``n`` rollouts instead of re-encoding ``prompts × n`` sequences."""
        import torch

        from verikit.completers.prefix_cache import PrefixCache, batched_cache

        encoded = [self.tokenizer(p)["input_ids"] for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: encoded[i])
        prefix_cache = PrefixCache(self.model)
        prompts_per_batch = max(1, self.batch_size // n)
        pad = self.tokenizer.pad_token_id
        for batch_number, start in enumerate(range(0, len(order), prompts_per_batch)):
            indices = order[start : start + prompts_per_batch]
            length = max(len(encoded[i]) for i in indices)
            caches = [prefix_cache.cache_for(encoded[i]) for i in indices]
            past = batched_cache(caches, length - 1, n, self.model.config)
            input_ids, mask = left_padded([encoded[i] for i in indices], pad, self.device)
            torch.manual_seed(seed * 1_000_003 + batch_number)
            with torch.no_grad():
                output = self.model.generate(
                    input_ids=input_ids.repeat_interleave(n, dim=0),
                    attention_mask=mask.repeat_interleave(n, dim=0),
                    **{prefix_cache.keyword: past},
                    **self._with_cancel(kwargs),
                )
            self._collect(output[:, length:], indices, n, stop, results, counts)
            raise_if_cancelled(self._cancel, "the completion")
            if progress is not None:
                progress(len(indices))
        self.prompt_tokens_encoded, self.prompt_tokens_reused = prefix_cache.encoded_tokens, prefix_cache.reused_tokens

    def _with_cancel(self, kwargs: dict) -> dict:
        """``kwargs`` plus a stopping criterion that ends ``generate`` at the next step once cancel is set."""
        cancel = self._cancel
        if cancel is None:
            return kwargs
        from transformers import StoppingCriteria, StoppingCriteriaList

        class _CancelCriterion(StoppingCriteria):
            def __call__(self, input_ids, scores, **unused):
                import torch

                return torch.full((input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device)

        return {**kwargs, "stopping_criteria": StoppingCriteriaList([_CancelCriterion()])}

    def _generate(self, encoded, kwargs, seed: int):
        import torch

        if self.cache_implementation:
            kwargs = {**kwargs, "cache_implementation": self.cache_implementation}
        torch.manual_seed(seed)
        try:
            with torch.no_grad():
                return self.model.generate(**encoded, **self._with_cancel(kwargs))
        except (ValueError, NotImplementedError, TypeError):
            if not self.cache_implementation:
                raise
            self.cache_implementation = None  # this model cannot use it: dynamic cache from now on
            return self._generate(encoded, {k: v for k, v in kwargs.items() if k != "cache_implementation"}, seed)
