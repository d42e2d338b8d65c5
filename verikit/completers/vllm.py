"""vLLM as the generation backend (extra ``verikit[vllm]``; GPU machines).

Kept thin on purpose: the request building (:func:`sampling_kwargs`) is plain Python and unit-tested on
CPU; everything else is vLLM's own ``LLM.generate`` with prefix caching on, so the step prefixes of one
solution share their KV blocks across rollouts — the feature :mod:`verikit.completers.prefix_cache`
imitates for transformers models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verikit.interfaces import Completer, Completions


def sampling_kwargs(
    n: int, temperature: float, top_p: float, max_new_tokens: int, stop: Sequence[str], seed: int | None
) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for one prompt under verikit's completer contract."""
    kwargs: dict[str, Any] = {
        "n": n,
        "temperature": max(0.0, temperature),
        "top_p": top_p if temperature > 0 else 1.0,
        "max_tokens": max_new_tokens,
        "seed": seed,
    }
    if stop:
        kwargs.update(stop=list(stop), include_stop_str_in_output=True)  # the contract keeps the stop string
    return kwargs


def _import_vllm():
    try:
        import vllm
    except ImportError as exc:
        raise ImportError(
            "the vLLM completer needs vLLM (GPU): pip install 'verikit[vllm]'; on CPU use the transformers completer"
        ) from exc
    return vllm


class VLLMCompleter(Completer):
    """Sampling with a vLLM engine; ``n`` continuations per prompt, seeded per prompt (``seed + index``), or each
    by its own seed with ``sample_seeds``."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        tokenizer: str | None = None,
        max_new_tokens: int = 256,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.85,
        tensor_parallel_size: int = 1,
        **engine_kwargs: Any,
    ):
        vllm = _import_vllm()
        self.max_new_tokens = max_new_tokens
        self.llm = vllm.LLM(
            model=model,
            tokenizer=tokenizer,
            dtype=dtype,
            enable_prefix_caching=True,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size,
            **engine_kwargs,
        )
        self.generated_tokens = 0

    def supports_sample_seeds(self) -> bool:
        return True

    def complete(
        self,
        prompts: Sequence[str],
        n: int = 1,
        *,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int | None = None,
        stop: Sequence[str] | None = None,
        seed: int | None = 0,
        progress: Any = None,
        sample_seeds: Sequence[Sequence[int]] | None = None,
    ) -> Completions:
        from vllm import SamplingParams

        stop = self.checked_stop(n, stop)
        sample_seeds = self.checked_sample_seeds(prompts, n, sample_seeds)
        budget = max_new_tokens or self.max_new_tokens
        if sample_seeds is not None:
            # one request per sample, seeded by its own seed: vLLM draws a seeded request from its own
            # generator, so the sample does not depend on the batch (prefix caching shares the prompt's KV)
            requests = [prompt for prompt in prompts for _ in range(n)]
            params = [
                SamplingParams(**sampling_kwargs(1, temperature, top_p, budget, stop, s))
                for seeds in sample_seeds
                for s in seeds
            ]
        else:
            requests = list(prompts)
            params = [
                SamplingParams(
                    **sampling_kwargs(n, temperature, top_p, budget, stop, None if seed is None else seed + i)
                )
                for i in range(len(prompts))
            ]
        outputs = self.llm.generate(requests, params, use_tqdm=progress is not None)
        results, counts = [], []
        for output in outputs:
            ordered = sorted(output.outputs, key=lambda o: o.index)
            results.append([o.text for o in ordered])
            counts.append([len(o.token_ids) for o in ordered])
        if sample_seeds is not None:  # n one-sample requests per prompt, back into one row per prompt
            results = [[t for row in results[i * n : (i + 1) * n] for t in row] for i in range(len(prompts))]
            counts = [[c for row in counts[i * n : (i + 1) * n] for c in row] for i in range(len(prompts))]
        self.generated_tokens += sum(map(sum, counts))
        return Completions(results, counts)

    def close(self) -> None:
        """Shut the engine down and return its GPU memory (vLLM keeps it until the engine and its workers go)."""
        if getattr(self, "llm", None) is None:
            return
        import gc

        self.llm = None
        try:  # the tensor-parallel workers and process groups live outside the LLM object
            from vllm.distributed.parallel_state import destroy_distributed_environment, destroy_model_parallel

            destroy_model_parallel()
            destroy_distributed_environment()
        except ImportError:  # older vLLM layouts: the engine's own shutdown is all there is
            pass
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
