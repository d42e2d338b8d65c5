"""Writing annotation records in the formats people train on: Math-Shepherd or TRL JSONL (the row layouts
are in :mod:`verikit.format`), or Parquet through ``datasets``."""

from __future__ import annotations

from pathlib import Path

from verikit.errors import DataError
from verikit.format import math_shepherd_line, to_math_shepherd, to_trl
from verikit.records import is_labelled


def _labelled_records(records: list[dict]):
    # an error or a duplicate has no labels to export; the record stays in the annotation folder and its counts
    return (record for record in records if is_labelled(record))


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
        elif fmt == "math-shepherd":  # the released file's exact serialisation (ASCII escapes, key order)
            with partial.open("w", encoding="ascii") as handle:
                for record in rows_in:
                    handle.write(math_shepherd_line(to_math_shepherd(record, labels=labels)))
            written = len(rows_in)
        else:
            _warn_if_trl_truncates(rows_in, labels, out)
            written = write_jsonl(partial, (to_trl(r, labels=labels) for r in rows_in))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _warn_if_trl_truncates(records: list[dict], labels: str, out: Path) -> None:
    """TRL's PRM trainer (``trl.PRMTrainer``, TRL 0.x) reads each label with ``int()``: a soft label such as 0.625
    becomes 0 there without a word. verikit's own ``train-prm --labels soft`` keeps them."""
    fractional = sum(1 for record in records for value in record[labels] if 0.0 < float(value) < 1.0)
    if fractional:
        import warnings

        warnings.warn(
            f"{out}: {fractional} soft labels strictly between 0 and 1 written for TRL; TRL's PRMTrainer truncates "
            "them to int (0.625 becomes 0), so train on them with `verikit train-prm --labels soft` or export hard "
            "labels for TRL",
            UserWarning,
            stacklevel=3,
        )
