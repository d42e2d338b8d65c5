"""Scoring a JSONL file of solutions (:class:`~verikit.records.ScoreRow`) with any reward model."""

from __future__ import annotations

from pathlib import Path

from verikit.components import load_scorer
from verikit.errors import DataError
from verikit.jsonl import read_jsonl
from verikit.metrics import AGGREGATIONS, aggregate
from verikit.models import require_model
from verikit.records import ScoreRow, validated


def score_file(
    model: str, path: str | Path, agg: str = "min", batch_size: int = 16, released_convention: bool = False
) -> list[dict]:
    """Each row of ``path`` with its ``step_scores``, aggregated ``score`` and ``aggregation``.

    Everything that can be checked without the model is checked first (the aggregation, the model folder,
    every row); an error the scorer finds in a row names that row's line in ``path``.
    """
    if agg not in AGGREGATIONS:
        raise DataError(f"unknown aggregation {agg!r}; choose one of {', '.join(AGGREGATIONS)}", field="agg")
    if not str(model).startswith(("http://", "https://")):
        require_model(model)
    numbered = list(read_jsonl(path))
    if not numbered:
        raise DataError("no rows to score", path=path)
    lines, given = [line for line, _ in numbered], [row for _, row in numbered]
    rows = [validated(ScoreRow, row, path=path, line=line) for line, row in numbered]
    scorer = load_scorer(model, batch_size=batch_size, released_convention=released_convention)
    try:
        scores = scorer.score([r.question for r in rows], [r.steps for r in rows])
    except DataError as exc:  # the scorer numbers rows from 1 in the order given; say which line of the file
        line = lines[exc.line - 1] if exc.line is not None and 0 < exc.line <= len(lines) else None
        raise DataError(exc.reason, path=path, line=line, field=exc.field) from None
    return [{**row, "step_scores": s, "score": aggregate(s, agg), "aggregation": agg} for row, s in zip(given, scores)]
