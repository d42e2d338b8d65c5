"""JSONL reading that never drops a row silently: every problem is an error naming file:line:field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from verikit.errors import DataError
from verikit.records import type_name as _type_name
from verikit.records import validated


def read_jsonl(path: str | Path, schema: Any = None) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, record)`` for each non-blank line of ``path`` (1-based line numbers).

    With ``schema`` (a pydantic model, see :mod:`verikit.records`) each record is that model, validated; a
    missing or mistyped field raises :class:`~verikit.errors.DataError` naming the file, the line and the field.
    Without, records are the parsed dicts.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            record = _parse_line(raw, path, line_number)
            if record is not None:  # a blank line
                yield line_number, record if schema is None else validated(schema, record, path=path, line=line_number)


def _parse_line(raw: bytes, path: Path, line_number: int) -> dict | None:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", path=path, line=line_number
        ) from None
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
    return record


def _check_unicode(value: Any, path: Path, line_number: int, field: str | None = None) -> None:
    """Every string in ``value`` must be encodable: a lone surrogate (``"\\ud800"``) is refused by field."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(
                "text holds a lone surrogate (an unpaired \\ud800-\\udfff escape)",
                path=path,
                line=line_number,
                field=field,
            ) from None
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


def read_json_object(path: str | Path, what: str, remedy: str = "") -> dict:
    """The JSON object in the file ``path`` (a manifest); anything else is a DataError saying it is a broken
    ``what``."""
    path = Path(path)
    suffix = f"; {remedy}" if remedy else ""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"broken {what} ({exc}){suffix}", path=path) from None
    if not isinstance(value, dict):
        raise DataError(f"broken {what} (not a JSON object){suffix}", path=path)
    return value
