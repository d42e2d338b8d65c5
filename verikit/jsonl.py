"""JSONL reading that never drops a row silently: every problem is an error naming file:line:field."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from verikit.errors import DataError

_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "list", dict: "object"}


def _type_name(value: Any) -> str:
    return "null" if value is None else _TYPE_NAMES.get(type(value), type(value).__name__)


def read_jsonl(path: str | Path, required: Mapping[str, type | tuple[type, ...]] | None = None) -> Iterator[tuple[int, dict]]:
    """Yield ``(line_number, record)`` for each non-blank line of ``path`` (1-based line numbers).

    ``required`` maps field names to the type(s) each must have; a missing or mistyped field raises
    :class:`~verikit.errors.DataError` naming the file, the line and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            record = _parse_line(raw, path, line_number, required)
            if record is not None:  # a blank line
                yield line_number, record


def _parse_line(raw: bytes, path: Path, line_number: int, required) -> dict | None:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", path=path,
                        line=line_number) from None
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON ({exc.msg} at column {exc.colno})", path=path, line=line_number) from None
    except RecursionError:
        raise DataError("JSON nested too deeply", path=path, line=line_number) from None
    if not isinstance(record, dict):
        raise DataError(f"expected a JSON object, got {_type_name(record)}", path=path, line=line_number)
    if "\\u" in line:  # only a \u escape can make a lone surrogate, which no tokenizer or file can take
        _check_unicode(record, path, line_number)
    for field, expected in (required or {}).items():
        if field not in record:
            raise DataError("missing", path=path, line=line_number, field=field)
        value = record[field]
        types = expected if isinstance(expected, tuple) else (expected,)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
            raise DataError(f"expected {wanted}, got {_type_name(value)}", path=path, line=line_number, field=field)
    return record


def _check_unicode(value: Any, path: Path, line_number: int, field: str | None = None) -> None:
    """Every string in ``value`` must be encodable: a lone surrogate (``"\\ud800"``) is refused by field."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError("text holds a lone surrogate (an unpaired \\ud800-\\udfff escape)", path=path,
                            line=line_number, field=field) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_unicode(item, path, line_number, field or key)
    elif isinstance(value, list):
        for item in value:
            _check_unicode(item, path, line_number, field)


def write_jsonl(path: str | Path, records) -> int:
    """Write records (dicts or pydantic models) one per line; returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            if hasattr(record, "model_dump"):
                record = record.model_dump(mode="json")
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
