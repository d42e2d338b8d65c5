"""Registers the core's completer backends lazily (importing torch only when one is asked for)."""

from verikit.hookspecs import hookimpl


@hookimpl
def register_completers(register):
    register(
        "transformers",
        "verikit.completers.transformers:TransformersCompleter",
        description="any Hugging Face causal LM; batched sampling, CPU or CUDA",
    )
    register(
        "openai",
        "verikit.completers.openai:OpenAICompleter",
        description="any OpenAI-compatible /v1/completions server (vLLM, llama.cpp, TGI, verikit serve)",
    )
    register(
        "vllm",
        "verikit.completers.vllm:VLLMCompleter",
        description="vLLM engine with prefix caching (GPU, extra verikit[vllm])",
    )
