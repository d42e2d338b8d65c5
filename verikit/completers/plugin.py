"""Registers the core's completer backends lazily (importing torch only when one is asked for)."""

from verikit.hookspecs import hookimpl


@hookimpl
def register_completers(register):
    register(
        "transformers",
        "verikit.completers.transformers:TransformersCompleter",
        description="any Hugging Face causal LM; batched sampling, CPU or CUDA",
    )
