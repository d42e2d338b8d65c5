"""Loading models by folder or hub id, with one-line errors instead of a hub lookup's traceback.

``from_pretrained("out/policy")`` on a folder that does not exist treats the string as a hub id, tries the
network and fails 200 lines later with a message about repository names. Every verikit loader goes
through :func:`require_model` first, so a missing or incomplete folder is named at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from verikit.errors import VerikitError


class ModelNotFound(VerikitError, FileNotFoundError):
    """A model folder that does not exist or holds no model, or a hub id that could not be loaded."""


def _looks_local(text: str) -> bool:
    """Whether ``text`` can only be meant as a path: a hub id is ``name`` or ``owner/name``."""
    if text.startswith(("/", ".", "~")) or text.endswith("/") or "\\" in text or text.count("/") > 1:
        return True
    return "/" in text and Path(text.split("/")[0]).is_dir()  # "out/policy" beside an existing out/


def require_model(source: str | Path) -> str:
    """``source`` if it is a model folder (with a ``config.json``) or can only be a hub id; else
    :class:`ModelNotFound`."""
    text = str(source)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise ModelNotFound(f"{text}: not a model folder (it holds no config.json)")
        return str(path)
    if _looks_local(text):
        raise ModelNotFound(f"{text}: no such model folder")
    return text


def load_pretrained(loader: Any, source: str | Path, **kwargs: Any) -> Any:
    """``loader.from_pretrained(source, **kwargs)`` (e.g. ``AutoModelForCausalLM``) after :func:`require_model`;
    a load that fails (a hub id that cannot be reached, a folder without the files) is one :class:`ModelNotFound`."""
    source = require_model(source)
    try:
        return loader.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelNotFound(f"{source}: cannot load with {getattr(loader, '__name__', loader)}: {first}") from None


#: The file in a reward-model folder that says which kind of scorer reads it (and its token convention).
RM_MANIFEST = "verikit_rm.json"


def read_rm_manifest(source: str | Path) -> dict | None:
    """The ``verikit_rm.json`` of a model folder, or ``None`` when there is none (a hub id, a plain LM)."""
    from verikit.jsonl import read_json_object

    path = Path(str(source)).expanduser() / RM_MANIFEST
    return read_json_object(path, "reward-model manifest") if path.is_file() else None
