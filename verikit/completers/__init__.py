"""Completer backends: transformers (default, CPU or CUDA); vLLM and OpenAI-compatible HTTP are planned extras."""
