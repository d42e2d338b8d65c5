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
            raise DataError(
                f"checker {checker_name!r} does not understand this gold answer: {row.gold[:200]!r}",
                path=path,
                line=line,
                field="gold",
            )
        extracted = checker.extract(row.solution)
        rows.append(
            {"line": line, "extracted": extracted, "gold": row.gold, "correct": checker.equivalent(extracted, row.gold)}
        )
    if not rows:
        raise DataError("no rows to check", path=path)
    correct = sum(r["correct"] for r in rows)
    return {
        "checker": checker_name,
        "n": len(rows),
        "correct": correct,
        "accuracy": correct / len(rows) if rows else 0.0,
        "rows": rows,
    }


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
        checker = checkers.get(checker_name) or checkers.setdefault(
            checker_name, components.answer_checker(checker_name)
        )
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


def _math_verify_verdict(text: str, gold: str) -> bool | None:
    """math-verify's verdict (its own parser and time limits), or ``None`` when it is not installed."""
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    try:
        return bool(verify(parse(f"${gold}$"), parse(text)))
    except Exception:  # math-verify raising on model output is its "no"
        return False


def processbench_rows(sources: list[str | Path]) -> list[tuple[Path, int, Any]]:
    """Every row of the ProcessBench files in ``sources`` (files or folders of ``*.jsonl``), validated."""
    from verikit.records import ProcessBenchRow

    files: list[Path] = []
    for source in map(Path, sources):
        files += sorted(source.glob("*.jsonl")) if source.is_dir() else [source]
    if not files:
        raise DataError("no ProcessBench files", path=", ".join(map(str, sources)))
    return [(path, line, row) for path in files for line, row in read_jsonl(path, ProcessBenchRow)]


def human_agreement(
    sources: list[str | Path], gold_datasets: list[str], data_dir: str | Path | None = None
) -> dict[str, Any]:
    """How often each registered checker (and math-verify) agrees with ProcessBench's human ``final_answer_correct``.

    Each row is joined to its gold answer by its problem text in ``gold_datasets`` (``"gsm8k-test"``, ``"math500"``
    …); a row whose problem is in none of them, or that has no human verdict, is counted, not graded. Every
    checker grades the same joined rows (the whole solution, steps joined by blank lines); ``own`` is the checker of
    the gold problem's domain. Disagreements of the own checker and of math-verify are listed.
    """
    gold: dict[str, Any] = {}
    for spec in gold_datasets:
        name, kwargs = resolve_dataset(spec)
        for problem in components.load_dataset(name, data_dir=data_dir, **kwargs):
            gold.setdefault(problem.question.strip(), problem)
    names = components.names("answer_checkers")
    checkers = {name: components.answer_checker(name) for name in names}
    started = time.perf_counter()
    subsets: dict[str, dict[str, dict[str, int]]] = {}
    unjoined: dict[str, int] = {}
    disagreements, verdicts = [], []
    for path, line, row in processbench_rows(sources):
        subset = str(row.id).split("-")[0]
        problem = gold.get(row.problem.strip())
        if problem is None or row.final_answer_correct is None:
            unjoined[subset] = unjoined.get(subset, 0) + 1
            continue
        text = "\n\n".join(row.steps)
        own = components.domain(problem.domain).answer_checker
        row_verdicts = {name: bool(checker.is_correct(text, problem.gold_answer)) for name, checker in checkers.items()}
        row_verdicts["own"] = row_verdicts[own]
        mv = _math_verify_verdict(text, problem.gold_answer)
        if mv is not None:
            row_verdicts["math-verify"] = mv
        human = row.final_answer_correct
        tally = subsets.setdefault(subset, {})
        for name, verdict in row_verdicts.items():
            counts = tally.setdefault(name, {"agree": 0, "n": 0})
            counts["n"] += 1
            counts["agree"] += verdict == human
        verdicts.append({"id": row.id, **row_verdicts})
        wrong = [name for name in ("own", "math-verify") if name in row_verdicts and row_verdicts[name] != human]
        if wrong:
            disagreements.append(
                {
                    "where": f"{path}:{line}",
                    "id": row.id,
                    "human": human,
                    "wrong": wrong,
                    "checker": own,
                    "gold": problem.gold_answer,
                    "extracted": checkers[own].extract(text),
                    "tail": text[-200:],
                }
            )
    for tally in subsets.values():
        for counts in tally.values():
            counts["accuracy"] = counts["agree"] / counts["n"]
    cuts = sum(getattr(c, "symbolic_wall_timeouts", 0) for c in checkers.values())
    return {
        "subsets": subsets,
        "not_joined": unjoined,
        "disagreements": disagreements,
        "verdicts": verdicts,
        "checkers": names,
        "wall_clock_cuts": cuts,
        "seconds": round(time.perf_counter() - started, 2),
    }
