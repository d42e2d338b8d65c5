"""Loaders for the real benchmarks in the data folder (``$VERIKIT_DATA``, default ``../shared/data``).

Each returns verikit :class:`~verikit.types.Problem` records; a malformed row raises
:class:`~verikit.errors.DataError` naming file, line and field — nothing is skipped.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from verikit.errors import DataError
from verikit.jsonl import read_jsonl
from verikit.paths import data_dir as resolve_data_dir
from verikit.records import Row, validated
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


def _load_math_file(path: Path, limit: int | None, keep=lambda row, line: True) -> list[Problem]:
    """The rows of a MATH file that ``keep`` accepts. A row without a gold answer (two in MATH train, whose own
    solutions box nothing) cannot be graded: it is left out with a warning that names its file, line and field,
    never silently."""
    problems = []
    for line, row in read_jsonl(path, MATHRow):
        row = row.model_dump()
        if not keep(row, line):
            continue
        if not row["answer"].strip():
            warnings.warn(
                str(
                    DataError(
                        "empty answer: the problem cannot be graded and is left out",
                        path=path,
                        line=line,
                        field="answer",
                    )
                ),
                stacklevel=3,
            )
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


def _math_folder(data_dir: str | Path | None) -> Path:
    return resolve_data_dir(data_dir) / "math"


def load_math500(split: str = "test", data_dir: str | Path | None = None, limit: int | None = None) -> list[Problem]:
    """MATH-500 (``math/test500.jsonl``, PRM800K's test split of Hendrycks' MATH)."""
    _check_split(split, ("test",), "math500")
    return _load_math_file(_math_folder(data_dir) / "test500.jsonl", limit)


def load_math_test(split: str = "test", data_dir: str | Path | None = None, limit: int | None = None) -> list[Problem]:
    """The whole MATH test set (5,000): MATH-500 and the 4,500 other test problems, which PRM800K moved into its
    training file (``math/train12k.jsonl`` rows whose ``unique_id`` starts ``test/``). Math-Shepherd's Table 2
    evaluates on all 5,000."""
    _check_split(split, ("test",), "math-test")
    folder = _math_folder(data_dir)
    problems = _load_math_file(folder / "test500.jsonl", None)
    problems += _load_math_file(
        folder / "train12k.jsonl", None, keep=lambda row, line: row["unique_id"].startswith("test/")
    )
    ids = [p.id for p in problems]
    if len(set(ids)) != len(ids):
        raise DataError(
            "a MATH test problem is in both test500.jsonl and train12k.jsonl", path=folder, field="unique_id"
        )
    return problems[:limit] if limit is not None else problems


def _problem_text(text: str) -> str:
    return " ".join(text.split())


def load_math_train(
    split: str = "train", data_dir: str | Path | None = None, limit: int | None = None
) -> list[Problem]:
    """MATH's 7,500 training problems (the ``train/`` rows of ``math/train12k.jsonl``), never a test problem: the
    file's 4,500 ``test/`` rows are MATH test problems (see :func:`load_math_test`), and a training row whose text is a
    test problem's (MATH has one: ``train/geometry/6032.json``) is left out with a warning naming it."""
    _check_split(split, ("train",), "math-train")
    folder = _math_folder(data_dir)
    test_texts = {_problem_text(p.question) for p in load_math_test(data_dir=data_dir)}
    path = folder / "train12k.jsonl"

    def keep(row: dict, line: int) -> bool:
        if not row["unique_id"].startswith("train/"):
            return False
        if _problem_text(row["problem"]) in test_texts:
            warnings.warn(
                str(
                    DataError(
                        f"{row['unique_id']} is a MATH test problem's text; left out of math-train",
                        path=path,
                        line=line,
                        field="problem",
                    )
                ),
                stacklevel=4,
            )
            return False
        return True

    return _load_math_file(path, limit, keep=keep)


class MetaMathQARow(Row):
    query: str
    response: str
    type: str


_METAMATH_ANSWER = re.compile(r"The answer is:?\s*(.+?)\s*$", re.S)


def load_metamathqa(
    split: str = "train", data_dir: str | Path | None = None, limit: int | None = None
) -> list[Problem]:
    """MetaMathQA (Yu et al., 2023), the data Math-Shepherd fine-tunes its generators and completer on (3 epochs).

    Rows ``{"query", "response", "type"}``; every response ends ``The answer is: X``. Read from
    ``$VERIKIT_DATA/metamathqa/*.json`` (the hub's ``MetaMathQA-395K.json``, a JSON array) or ``*.jsonl``; without
    that folder, from the hub (``datasets.load_dataset("meta-math/MetaMathQA")``).
    """
    _check_split(split, ("train",), "metamathqa")
    folder = resolve_data_dir(data_dir) / "metamathqa"
    problems: list[Problem] = []
    for path, line, raw in _metamathqa_rows(folder):
        row = validated(MetaMathQARow, raw, path=path, line=line)
        match = _METAMATH_ANSWER.search(row.response)
        if not match:
            raise DataError("the response does not end 'The answer is: X'", path=path, line=line, field="response")
        problems.append(
            Problem(
                id=f"metamathqa-{len(problems)}",
                question=row.query,
                gold_answer=match.group(1).strip(),
                domain="math" if row.type.startswith("MATH") else "gsm8k",
                gold_solution=row.response,
                metadata={"type": row.type, "source_line": line},
            )
        )
        if limit is not None and len(problems) >= limit:
            break
    return problems


def _metamathqa_rows(folder: Path):
    """(file, row number, row) of every MetaMathQA row, local files first, the hub otherwise."""
    import json

    if folder.is_dir():
        files = sorted(folder.glob("*.json")) + sorted(folder.glob("*.jsonl"))
        if not files:
            raise DataError("no *.json or *.jsonl file", path=folder)
        for path in files:
            if path.suffix == ".jsonl":
                for line, row in read_jsonl(path):
                    yield path, line, row
                continue
            try:
                rows = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise DataError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
            if not isinstance(rows, list):
                raise DataError("expected a JSON array of rows", path=path)
            for index, row in enumerate(rows, start=1):
                yield path, index, row
        return
    import datasets  # the hub: only where the data folder has no copy

    try:
        rows = datasets.load_dataset("meta-math/MetaMathQA", split="train")
    except Exception as exc:  # offline, gated, renamed: one line that says where the data can come from instead
        raise DataError(
            f"metamathqa: no local copy and the hub failed ({type(exc).__name__}: {str(exc)[:200]}); put "
            "MetaMathQA-395K.json from hf.co/datasets/meta-math/MetaMathQA in this folder",
            path=folder,
        ) from None
    for index, row in enumerate(rows, start=1):
        yield "hub:meta-math/MetaMathQA", index, dict(row)
