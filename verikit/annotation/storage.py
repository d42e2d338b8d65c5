"""Exactly-once, resumable storage of annotation records.

Layout of an annotation folder::

    manifest.json         the run's configuration (a resumed run must use the same one)
    shard-00000.jsonl     records of work chunk 0, one JSON object per line, append-only
    shard-00001.jsonl     …

Every record has a content-derived ``key`` (problem, sample index, solution text). A chunk's records are
appended in one write and fsync-ed. A run killed at any moment (``kill -9``) leaves at worst a torn last
line: on resume it is cut off and reported, the chunk is recomputed (deterministically: same problems,
same seeds) and only records whose key is not yet stored are appended. So an interrupted and resumed run
ends with exactly the records of an uninterrupted one — no loss, no duplicates.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from verikit.errors import DataError
from verikit.jsonl import read_json_object
from verikit.records import AnnotationRecord, validated

MANIFEST = "manifest.json"
LOCK = ".lock"  # held (flock) by the run writing the folder
_HELD: dict[Path, list] = {}  # folder → [open lock file, stores of this process holding it]


def record_key(problem_id: str, sample_index: int, solution: str) -> str:
    digest = hashlib.sha256(json.dumps([problem_id, sample_index, solution]).encode()).hexdigest()
    return digest[:20]


_ABSENT = object()  # a manifest key one side lacks (unlike a key holding None)


def _short(value: Any, limit: int = 60) -> str:
    """A manifest value for an error message (``absent`` for :data:`_ABSENT`)."""
    text = "absent" if value is _ABSENT else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


class AnnotationStore:
    """One annotation folder. ``repairs`` lists the torn lines cut off while opening it."""

    def __init__(self, directory: str | Path, config: dict[str, Any] | None = None):
        """Open ``directory`` to read it, or with ``config`` to write it: then it is created, locked against a
        second writer (until :meth:`close` or the process ends) and its manifest written or checked."""
        self.directory = Path(directory)
        self.repairs: list[str] = []
        self._lock_file = None
        manifest = self.directory / MANIFEST
        if config is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock()
            if manifest.exists():
                stored = read_manifest(self.directory)
                if stored != json.loads(json.dumps(config)):
                    changed = sorted(
                        k for k in set(stored) | set(config) if stored.get(k, _ABSENT) != config.get(k, _ABSENT)
                    )
                    self.close()
                    differences = "; ".join(
                        f"{k}: {_short(stored.get(k, _ABSENT))} here, {_short(config.get(k, _ABSENT))} now"
                        for k in changed
                    )
                    raise DataError(
                        f"{manifest}: this folder holds a run with another configuration (differs in {differences}); "
                        "use a new --out folder or the same settings"
                    )
            else:
                tmp = manifest.with_suffix(".tmp")
                tmp.write_text(json.dumps(config, indent=2, sort_keys=True))
                os.replace(tmp, manifest)
        self._keys_by_shard: dict[int, set[str]] = {}
        for shard, index in self._shards():
            self._keys_by_shard[index] = {
                record["key"] for record in self._read_shard(shard, repair=config is not None)
            }

    def _lock(self) -> None:
        import fcntl

        key = self.directory.resolve()
        if key in _HELD:  # this process already writes here (a store reopened after a simulated crash)
            _HELD[key][1] += 1
            self._lock_file = key
            return
        handle = (self.directory / LOCK).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise DataError(
                f"{self.directory}: another annotation run ({holder}) is writing this folder; wait for it "
                "to finish or use another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        _HELD[key] = [handle, 1]
        self._lock_file = key

    def close(self) -> None:
        """Release the writer's lock (also released when the process ends, however it ends)."""
        key, self._lock_file = self._lock_file, None
        if key is not None and key in _HELD:
            _HELD[key][1] -= 1
            if _HELD[key][1] == 0:
                _HELD.pop(key)[0].close()

    def _shards(self) -> list[tuple[Path, int]]:
        """The shard files in chunk order; a ``shard-*.jsonl`` whose name is not ``shard-NNNNN.jsonl`` is an error."""
        shards = []
        for path in self.directory.glob("shard-*.jsonl"):
            number = path.stem.removeprefix("shard-")
            if not number.isdigit():
                raise DataError(
                    "unexpected file in an annotation folder (shards are named shard-NNNNN.jsonl); move it elsewhere",
                    path=path,
                )
            shards.append((path, int(number)))
        return sorted(shards, key=lambda shard: shard[1])

    def drop_errors(self) -> int:
        """Empty every shard that holds a record with an error, so its chunk runs again; returns the records dropped.

        Whole chunks, not single records: a chunk's samples are drawn in one batch, so recomputing part of it
        would draw different samples for the rest and break exactly-once.
        """
        dropped = 0
        for shard, index in self._shards():
            records = self._read_shard(shard, repair=False)
            if any(r.get("error") for r in records):
                tmp = shard.with_suffix(".tmp")
                tmp.write_bytes(b"")
                os.replace(tmp, shard)
                self._keys_by_shard[index] = set()
                dropped += len(records)
        return dropped

    def _read_shard(self, path: Path, repair: bool) -> list[dict]:
        data = path.read_bytes()
        complete, _, torn = data.rpartition(b"\n")  # bytes after the last newline: a write cut short
        if torn:
            if repair:
                with path.open("r+b") as handle:
                    handle.truncate(len(complete) + (1 if complete else 0))
                line = complete.count(b"\n") + (2 if complete else 1)
                self.repairs.append(f"{path}:{line}: torn last line ({len(torn)} bytes) cut off; it will be recomputed")
        records = []
        for line_number, line in enumerate(complete.split(b"\n") if complete else [], start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"corrupt record ({exc.msg})", path=path, line=line_number) from None
            records.append(validated(AnnotationRecord, record, path=path, line=line_number).model_dump())
        return records

    def keys(self, chunk: int) -> set[str]:
        return self._keys_by_shard.get(chunk, set())

    def shard_path(self, chunk: int) -> Path:
        return self.directory / f"shard-{chunk:05d}.jsonl"

    def append(self, chunk: int, records: list[dict]) -> int:
        """Append the records of ``chunk`` not yet stored; returns how many were new."""
        known = self._keys_by_shard.setdefault(chunk, set())
        new = [r for r in records if r["key"] not in known]
        if not new:
            return 0
        payload = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in new).encode()
        with self.shard_path(chunk).open("ab") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        known.update(r["key"] for r in new)
        return len(new)

    def records(self) -> list[dict]:
        """All stored records, chunk by chunk in order, each exactly once."""
        out, seen = [], set()
        for shard, _ in self._shards():
            for line_number, record in enumerate(self._read_shard(shard, repair=False), start=1):
                if record["key"] in seen:
                    raise DataError(f"duplicate record key {record['key']}", path=shard, line=line_number)
                seen.add(record["key"])
                out.append(record)
        return out


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The run configuration stored in an annotation folder; a broken manifest is a :class:`DataError`."""
    return read_json_object(Path(directory) / MANIFEST, "manifest", "restore it or start a new --out folder")


def load_records(directory: str | Path) -> list[dict]:
    """The records of an annotation folder, each validated as a :class:`~verikit.records.AnnotationRecord`, as dicts."""
    directory = Path(directory)
    if not (directory / MANIFEST).exists():
        raise DataError(f"{directory}: not an annotation folder (no {MANIFEST})")
    read_manifest(directory)
    return AnnotationStore(directory).records()


def load_annotations(directory: str | Path):
    """The records of an annotation folder as a Hugging Face ``datasets.Dataset``."""
    import datasets

    records = load_records(directory)
    if not records:
        raise DataError(f"{directory}: the annotation folder holds no records yet")
    return datasets.Dataset.from_list(records)
