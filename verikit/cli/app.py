"""The root ``typer`` application that every command module adds its commands to, and the console they print on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

# Help texts are Markdown, not rich markup: they name extras as `verikit[serve]`, which rich markup would read as a
# style tag and drop.
app = typer.Typer(
    help="verikit: process verification (Math-Shepherd and beyond).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
console = Console()


def write_json(data, out: Optional[Path]) -> None:
    """``data`` as indented JSON into ``out`` (stdout when ``out`` is None)."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if out is None:
        print(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {out}")
