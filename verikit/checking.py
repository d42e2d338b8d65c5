"""Grading with a named answer checker: a JSONL of solutions, or a dataset's gold solutions (gold-vs-gold)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from verikit import components
from verikit.errors import DataError, UnknownNameError
from verikit.interfaces import AnswerChecker
from verikit.jsonl import read_jsonl
from verikit.records import CheckRow


def check_file(path: str | Path, checker_name: str) -> dict[str, Any]:
    """Grade every ``{"solution": str, "gold": str}`` row of a JSONL file; returns per-row verdicts and totals."""
    checker = components.answer_checker(checker_name)
    rows = []
    for line, row in read_jsonl(path, CheckRow):
        if not checker.equivalent(checker.normalize(row.gold), row.gold):  # a verdict against it means nothing
            raise DataError(f"checker {checker_name!r} does not understand this gold answer: {row.gold[:200]!r}",
                            path=path, line=line, field="gold")
        extracted = checker.extract(row.solution)
        rows.append({"line": line, "extracted": extracted, "gold": row.gold, "correct": checker.equivalent(extracted, row.gold)})
    if not rows:
        raise DataError("no rows to check", path=path)
    correct = sum(r["correct"] for r in rows)
    return {"checker": checker_name, "n": len(rows), "correct": correct, "accuracy": correct / len(rows) if rows else 0.0, "rows": rows}


def resolve_dataset(spec: str) -> tuple[str, dict[str, Any]]:
    """``"gsm8k-test"`` → ``("gsm8k", {"split": "test"})``; ``"math500"`` → ``("math500", {})``."""
    from verikit.plugins import get_host

    datasets = get_host().registries["datasets"]
    if spec in datasets:
        return spec, {}
    name, _, split = spec.rpartition("-")
    if name in datasets:
        return name, {"split": split}
    datasets.entry(spec)  # raises UnknownNameError with did-you-mean
    raise UnknownNameError(spec)  # pragma: no cover


def gold_vs_gold(spec: str, data_dir: str | Path | None = None, limit: int | None = None) -> dict[str, Any]:
    """Extract the answer from every gold solution of a dataset and compare it with the gold answer.

    This measures the checker itself: a perfect checker agrees on every row.
    """
    name, kwargs = resolve_dataset(spec)
    problems = components.load_dataset(name, data_dir=data_dir, limit=limit, **kwargs)
    started = time.perf_counter()
    checkers: dict[str, AnswerChecker] = {}
    misses, agree = [], 0
    for problem in problems:
        if problem.gold_solution is None:
            continue
        checker_name = components.domain(problem.domain).answer_checker
        checker = checkers.get(checker_name) or checkers.setdefault(checker_name, components.answer_checker(checker_name))
        extracted = checker.extract(problem.gold_solution)
        if checker.equivalent(extracted, problem.gold_answer):
            agree += 1
        else:
            misses.append({"id": problem.id, "gold_answer": problem.gold_answer, "extracted": extracted})
    n = agree + len(misses)
    return {
        "dataset": spec,
        "checkers": sorted(checkers),
        "n": n,
        "agree": agree,
        "accuracy": agree / n if n else 0.0,
        "misses": misses,
        "seconds": round(time.perf_counter() - started, 3),
    }
