"""Loaders for the real benchmarks in the data folder (``$VERIKIT_DATA``, default ``../shared/data``).

Each returns verikit :class:`~verikit.types.Problem` records; a malformed row raises
:class:`~verikit.errors.DataError` naming file, line and field — nothing is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from verikit.errors import DataError
from verikit.jsonl import read_jsonl
from verikit.paths import data_dir as resolve_data_dir
from verikit.records import Row
from verikit.types import Problem


class GSM8KRow(Row):
    question: str
    answer: str


class MATHRow(Row):
    problem: str
    solution: str
    answer: str
    unique_id: str


_FINAL = re.compile(r"####\s*(\S[^\n]*)\s*$")


def _check_split(split: str, allowed: tuple[str, ...], dataset: str) -> None:
    if split not in allowed:
        raise DataError(f"dataset {dataset!r} has no split {split!r}; choose one of {', '.join(allowed)}")


def load_gsm8k(split: str = "test", data_dir: str | Path | None = None, limit: int | None = None) -> list[Problem]:
    """GSM8K (``gsm8k/{train,test}.jsonl``: ``{"question", "answer"}``, answers ending ``#### n``)."""
    _check_split(split, ("train", "test"), "gsm8k")
    path = resolve_data_dir(data_dir) / "gsm8k" / f"{split}.jsonl"
    problems = []
    for line, row in read_jsonl(path, GSM8KRow):
        match = _FINAL.search(row.answer)
        if not match:
            raise DataError("no final '#### <answer>' line", path=path, line=line, field="answer")
        problems.append(
            Problem(
                id=f"gsm8k-{split}-{line}",
                question=row.question,
                gold_answer=match.group(1).strip(),
                domain="gsm8k",
                gold_solution=row.answer,
                metadata={"source_line": line},
            )
        )
        if limit is not None and len(problems) >= limit:
            break
    return problems


def _load_math_file(path: Path, limit: int | None) -> list[Problem]:
    """The rows of a MATH file. A row without a gold answer (two in MATH train, whose own solutions box nothing)
    cannot be graded: it is left out with a warning that names its file, line and field, never silently."""
    import warnings

    problems = []
    for line, row in read_jsonl(path, MATHRow):
        row = row.model_dump()
        if not row["answer"].strip():
            warnings.warn(str(DataError("empty answer: the problem cannot be graded and is left out", path=path,
                                        line=line, field="answer")), stacklevel=3)
            continue
        problems.append(
            Problem(
                id=row["unique_id"],
                question=row["problem"],
                gold_answer=row["answer"],
                domain="math",
                gold_solution=row["solution"],
                metadata={"subject": row.get("subject"), "level": row.get("level"), "source_line": line},
            )
        )
        if limit is not None and len(problems) >= limit:
            break
    return problems


def load_math500(split: str = "test", data_dir: str | Path | None = None, limit: int | None = None) -> list[Problem]:
    """MATH-500 (``math/test500.jsonl``, PRM800K's test split of Hendrycks' MATH)."""
    _check_split(split, ("test",), "math500")
    return _load_math_file(resolve_data_dir(data_dir) / "math" / "test500.jsonl", limit)


def load_math_train(split: str = "train", data_dir: str | Path | None = None, limit: int | None = None) -> list[Problem]:
    """MATH training problems (``math/train12k.jsonl``, the 12k problems outside MATH-500)."""
    _check_split(split, ("train",), "math-train")
    return _load_math_file(resolve_data_dir(data_dir) / "math" / "train12k.jsonl", limit)
