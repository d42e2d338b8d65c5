"""The one reuse rule of the pipeline: an artifact is kept only while what it was made from is unchanged.

Every stage describes what an artifact depends on as a :class:`Fingerprint` — named parts, each a short digest:
the models it read (:func:`model_identity`: the files of a model folder, by content up to 64 MiB a file and by
size and modification time beyond), the dataset rows (:func:`rows_identity`), the artifacts of earlier stages it
read (:func:`folder_identity`), and the settings that change its output. The fingerprint is stored beside the
artifact (:func:`record`); :func:`decide` compares it with the stored one and says, in words, what it reused and
why, or which parts changed. So retraining a model in place, or changing one dataset row, reruns exactly the
stages downstream of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: a file larger than this is identified by its size and modification time instead of its bytes
CONTENT_HASH_LIMIT = 64 * 2**20
#: folders a model folder may hold that are not the model (resumable training state)
_NOT_MODEL = {"checkpoints", ".cache", "__pycache__"}
_file_digests: dict[tuple[str, int, int], str] = {}


def digest(value: Any) -> str:
    """A short stable digest of a JSON-able value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """A file's digest (by content up to :data:`CONTENT_HASH_LIMIT`, else by size and modification time)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _file_digests:
        if stat.st_size > CONTENT_HASH_LIMIT:
            _file_digests[key] = f"size={stat.st_size},mtime={stat.st_mtime_ns}"
        else:
            with open(path, "rb") as handle:
                _file_digests[key] = (
                    hashlib.file_digest(handle, "sha256").hexdigest()[:16]
                    if hasattr(hashlib, "file_digest")
                    else hashlib.sha256(handle.read()).hexdigest()[:16]
                )
    return _file_digests[key]


def folder_identity(folder: str | Path, skip: set[str] = frozenset()) -> str:
    """A digest of every file under ``folder`` (relative names and contents), leaving out ``skip``'s folder names."""
    root = Path(folder)
    parts = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            parts.append((str(path.relative_to(root)), file_digest(path)))
    return digest(parts)


def model_identity(model: str) -> str:
    """What a model is, for reuse: the digest of its folder's files, or its name for a hub id or an address (whose
    contents cannot be seen from here; a hub model updated upstream is not noticed)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return folder_identity(path, _NOT_MODEL)
    return digest({"name": model})


def rows_identity(problems) -> str:
    """A digest of a dataset's problems as a stage reads them: ids, questions and gold answers, in order."""
    return digest([(p.id, p.question, p.gold_answer) for p in problems])


@dataclass
class Fingerprint:
    """Named digests of everything an artifact was made from."""

    parts: dict[str, str]

    @classmethod
    def of(cls, **parts: Any) -> Fingerprint:
        """``Fingerprint.of(generator=model_identity(g), rows=rows_identity(p), settings={...})``: strings are kept as
        they are (already digests), anything else is digested."""
        return cls({name: value if isinstance(value, str) else digest(value) for name, value in parts.items()})

    def changed(self, stored: dict | None) -> list[str]:
        """The parts that differ from ``stored`` (all of them when nothing is stored)."""
        if not stored:
            return sorted(self.parts)
        names = set(self.parts) | set(stored)
        return sorted(name for name in names if self.parts.get(name) != stored.get(name))


FINGERPRINT_FILE = "verikit_fingerprint.json"


def _fingerprint_path(artifact: Path, pending: bool = False) -> Path:
    """Beside a folder: ``verikit_fingerprint[.pending].json`` in it; beside a file:
    ``<name>.fingerprint[.pending].json``."""
    suffix = ".pending.json" if pending else ".json"
    if artifact.suffix == "":
        return artifact / FINGERPRINT_FILE.replace(".json", suffix)
    return artifact.with_name(artifact.name + ".fingerprint" + suffix)


def stored_fingerprint(artifact: Path, pending: bool = False) -> dict | None:
    """The fingerprint recorded beside ``artifact`` when it was completed (``pending``: when its making began)."""
    try:
        return json.loads(_fingerprint_path(artifact, pending).read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, fingerprint: Fingerprint) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(fingerprint.parts, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


@dataclass
class Decision:
    """Whether to reuse an artifact, resume it, or make it anew, and the sentence that says why."""

    reuse: bool
    resume: bool
    reason: str
    changed: list[str]

    def report(self) -> dict:
        return {"reused": self.reuse, "why": self.reason}


def decide(artifact: Path, fingerprint: Fingerprint, what: str) -> Decision:
    """Reuse ``artifact`` when the fingerprint recorded at its completion equals ``fingerprint``; resume it when its
    making began from the same inputs and did not finish; else it is made anew (:func:`begin` clears it).

    ``what`` names the artifact in the sentence (``"reward model prm"``)."""
    if not fingerprint.changed(stored_fingerprint(artifact)):
        return Decision(True, False, f"reused {what}: its inputs are unchanged", [])
    if not fingerprint.changed(stored_fingerprint(artifact, pending=True)):
        return Decision(False, True, f"resuming {what}", [])
    stored = stored_fingerprint(artifact) or stored_fingerprint(artifact, pending=True)
    if stored is None:
        reason = f"making {what}" + ("" if not artifact.exists() else ": what is there holds no record of its inputs")
        return Decision(False, False, reason, fingerprint.changed(None))
    changed = fingerprint.changed(stored)
    return Decision(False, False, f"making {what} again: {', '.join(changed)} changed", changed)


def begin(artifact: Path, fingerprint: Fingerprint, decision: Decision) -> None:
    """Before making ``artifact``: clear what a run from other inputs left there (unless resuming), and record the
    fingerprint as pending, so a killed run resumes only the work begun from the same inputs."""
    import shutil

    if not decision.resume and not decision.reuse:
        if artifact.is_dir():
            shutil.rmtree(artifact)
        elif artifact.exists():
            artifact.unlink()
        _fingerprint_path(artifact).unlink(missing_ok=True)
    _write(_fingerprint_path(artifact, pending=True), fingerprint)


def record(artifact: Path, fingerprint: Fingerprint) -> None:
    """Once ``artifact`` is complete: store ``fingerprint`` as what it was made from."""
    _write(_fingerprint_path(artifact), fingerprint)
    _fingerprint_path(artifact, pending=True).unlink(missing_ok=True)


def reward_model_identity(path: str) -> str:
    """A reward model's identity: its folder, and the base it reads when it has no weights of its own (likelihood)."""
    from verikit.models import read_rm_manifest

    if path.startswith(("http://", "https://")):
        return digest({"address": path})
    manifest = read_rm_manifest(path) if Path(path).expanduser().is_dir() else None
    base = (manifest or {}).get("base")
    own = model_identity(path)
    return digest([own, model_identity(base)]) if base and not (Path(path) / "config.json").exists() else own


def start(artifact: Path, fingerprint: Fingerprint, what: str) -> Decision:
    """:func:`decide`, say the decision in the run's output, and unless the artifact is reused :func:`begin` it:
    every stage's first move for each artifact it makes."""
    decision = decide(artifact, fingerprint, what)
    print(f"   {decision.reason}", flush=True)
    if not decision.reuse:
        begin(artifact, fingerprint, decision)
    return decision
