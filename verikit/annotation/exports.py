"""Annotation records ↔ the formats people train on.

* Math-Shepherd (``peiyi9979/Math-Shepherd``): ``{"input", "label", "task"}`` where ``input`` is the
  question, a space, and the steps each followed by `` ки`` (joined by newlines), and ``label`` is the same
  text with each tag replaced by ``+`` or ``-``. Byte-compatible with the released rows.
* TRL stepwise supervision: ``{"prompt", "completions", "labels"}``.
* Parquet, through ``datasets``.
"""

from __future__ import annotations

from pathlib import Path

from verikit.builtin.splitters import STEP_TAG
from verikit.errors import DataError
from verikit.rm.convention import prm_input

_TAG = " " + STEP_TAG


def _labelled_records(records: list[dict]):
    for record in records:
        if record.get("error"):
            continue  # no labels to export; the record stays in the annotation folder and its counts
        yield record


def to_math_shepherd(record: dict, task: str | None = None, labels: str = "hard_labels") -> dict:
    """One Math-Shepherd row from an annotation record (its steps and hard labels by default)."""
    steps, flags = record["steps"], record[labels]
    if len(steps) != len(flags):
        raise DataError(f"record {record.get('key')}: {len(steps)} steps but {len(flags)} labels")
    if labels == "soft_labels":
        flags = [value >= 0.5 for value in flags]
    marked = "\n".join(f"{step} {'+' if good else '-'}" for step, good in zip(steps, flags))
    return {
        "input": prm_input(record["question"], steps),
        "label": f"{record['question']} {marked}",
        "task": task or record.get("domain", "").upper(),
    }


def from_math_shepherd(row: dict, *, path: str | Path = "<rows>", line: int | None = None) -> dict:
    """A record (question, steps, hard labels) from a released Math-Shepherd row; errors name file:line:field."""
    for field in ("input", "label"):
        if not isinstance(row.get(field), str):
            raise DataError("missing or not a string", path=path, line=line, field=field)
    text, label = row["input"], row["label"]
    start = text.find(" Step 1:")
    if start < 0:
        raise DataError("no ' Step 1:' after the question", path=path, line=line, field="input")
    question, body = text[:start], text[start + 1 :]
    if not body.endswith(_TAG):
        raise DataError(f"the last step does not end with {_TAG!r}", path=path, line=line, field="input")
    steps = [piece for piece in body[: -len(_TAG)].split(_TAG + "\n")]
    flags, cursor = [], len(question) + 1
    if label[:cursor] != text[:cursor]:
        raise DataError("the question differs from the input's", path=path, line=line, field="label")
    for index, step in enumerate(steps):
        if label[cursor : cursor + len(step)] != step:
            raise DataError(f"step {index + 1} differs from the input's", path=path, line=line, field="label")
        cursor += len(step)
        mark = label[cursor : cursor + 2]
        if mark not in (" +", " -"):
            raise DataError(f"step {index + 1} has no ' +' or ' -' label (found {mark!r})", path=path, line=line, field="label")
        flags.append(mark == " +")
        cursor += 2 + (1 if index < len(steps) - 1 else 0)
    if cursor != len(label):
        raise DataError("text after the last label", path=path, line=line, field="label")
    return {"question": question, "steps": steps, "hard_labels": flags, "task": row.get("task")}


def to_trl(record: dict, labels: str = "hard_labels") -> dict:
    """A TRL stepwise-supervision row. ``labels="soft_labels"`` keeps the soft values (floats) as they are."""
    return {"prompt": record["question"], "completions": list(record["steps"]), "labels": list(record[labels])}


LABELS = ("hard_labels", "soft_labels")
FORMATS = ("math-shepherd", "trl", "parquet")


def export(records: list[dict], fmt: str, out: str | Path, labels: str = "hard_labels") -> int:
    """Write ``records`` as ``math-shepherd`` / ``trl`` JSONL or ``parquet``; returns the rows written.

    ``labels`` is ``hard_labels`` or ``soft_labels`` (``hard``/``soft`` also do). The file is written beside
    ``out`` and moved over it only when complete: an error leaves an existing ``out`` as it was.
    """
    import os

    from verikit.jsonl import write_jsonl

    labels = {"hard": "hard_labels", "soft": "soft_labels"}.get(labels, labels)
    if labels not in LABELS:
        raise DataError(f"unknown labels {labels!r}; choose hard_labels or soft_labels")
    if fmt not in FORMATS:
        raise DataError(f"unknown export format {fmt!r}; choose {', '.join(FORMATS)}")
    rows_in = list(_labelled_records(records))
    if not rows_in:
        raise DataError(f"no labelled records to export ({len(records)} records, all with errors)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        if fmt == "parquet":
            import datasets

            datasets.Dataset.from_list(rows_in).to_parquet(str(partial))
            written = len(rows_in)
        else:
            convert = to_math_shepherd if fmt == "math-shepherd" else to_trl
            written = write_jsonl(partial, (convert(r, labels=labels) for r in rows_in))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return written
