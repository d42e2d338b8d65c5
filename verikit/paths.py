"""Where verikit finds benchmark data and keeps its caches (both overridable by environment variables)."""

from __future__ import annotations

import os
from pathlib import Path

from verikit.errors import DataError


def data_dir(explicit: str | Path | None = None) -> Path:
    """The benchmark data folder: ``explicit``, else ``$VERIKIT_DATA``, else the first ``shared/data`` found
    beside the current folder or one of its parents (the layout of a checkout next to ``../shared``)."""
    if explicit is not None:
        candidates = [Path(explicit)]
    elif os.environ.get("VERIKIT_DATA"):
        candidates = [Path(os.environ["VERIKIT_DATA"])]
    else:
        here = Path.cwd().resolve()
        candidates = [parent / "shared" / "data" for parent in (here, *here.parents)]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates[:3])
    raise DataError(
        f"benchmark data folder not found (tried {tried}); set VERIKIT_DATA to the folder holding gsm8k/ and math/"
    )


def cache_dir() -> Path:
    """Where trained miniature models and other reusable artifacts go: ``$VERIKIT_CACHE`` or ``~/.cache/verikit``."""
    root = Path(os.environ.get("VERIKIT_CACHE") or Path.home() / ".cache" / "verikit")
    root.mkdir(parents=True, exist_ok=True)
    return root
