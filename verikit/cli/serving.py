"""``verikit serve``: the completion and scoring server (its limits are :class:`verikit.serve.ServeLimits`)."""

from __future__ import annotations

from typing import Optional

import typer

from verikit.cli.app import app
from verikit.cli.options import config_options
from verikit.serve_schemas import ServeLimits


@app.command("serve")
@config_options(ServeLimits, param="limits")
def serve_command(
    limits: ServeLimits,
    model: Optional[str] = typer.Option(None, help="Causal LM for /v1/completions (folder or hub id)."),
    prm: Optional[str] = typer.Option(None, help="PRM folder for /v1/score."),
    host: str = typer.Option("127.0.0.1", help="Address to bind; beyond loopback an --api-key is required."),
    port: int = typer.Option(8000),
    device: str = typer.Option("auto"),
    api_key: Optional[str] = typer.Option(
        None, help="Require 'Authorization: Bearer KEY' (default: $VERIKIT_API_KEY)."
    ),
    released_convention: bool = typer.Option(
        False, help="Read a --prm without verikit_rm.json as a Math-Shepherd PRM (+/- at ки)."
    ),
    backend: str = typer.Option(
        "transformers", help="Registered completer backend that generates (transformers, vllm …)."
    ),
) -> None:
    """Serve an OpenAI-compatible /v1/completions endpoint and a /v1/score PRM endpoint (extra verikit[serve])."""
    from verikit.serve import serve

    serve(
        model,
        prm,
        host=host,
        port=port,
        device=device,
        api_key=api_key,
        limits=limits,
        released_convention=released_convention,
        backend=backend,
    )
