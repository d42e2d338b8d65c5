"""ProcessBench-style rows: loading the benchmark's files and making such rows where gold step labels exist.

The row schema is :class:`verikit.records.ProcessBenchRow`.
"""

from __future__ import annotations

import json
from pathlib import Path

from verikit.errors import DataError
from verikit.jsonl import read_jsonl
from verikit.records import ProcessBenchRow, validated


def load_processbench(path: str | Path) -> list[dict]:
    """Rows of a ProcessBench JSON file (a list), JSONL file or parquet file (ProcessBench's hub layout), each
    validated as a :class:`~verikit.records.ProcessBenchRow`; errors name file, row and field.

    Rows in TRL's stepwise layout (``prompt``/``completions``/``labels``, e.g. ``verikit export --format trl``) are
    read as ProcessBench rows: the first step labelled below 0.5 is the first error (-1 when none is), and a row's
    final answer counts as correct when every step is labelled right, unless it says ``final_correct``."""
    from verikit.rm.data import _table_rows

    path = Path(path)
    if path.suffix == ".parquet":
        numbered = _table_rows(path)
    else:
        text = path.read_text(encoding="utf-8")
        if text.lstrip().startswith("["):
            try:
                rows = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
            numbered = enumerate(rows, start=1)
        else:
            numbered = read_jsonl(path)
    return [
        validated(ProcessBenchRow, _from_trl(row, path, index), path=path, line=index).model_dump()
        for index, row in numbered
    ]


def _from_trl(row, path, index: int):
    """A TRL stepwise row as a ProcessBench row; any other row as it is."""
    if not (isinstance(row, dict) and "completions" in row and "problem" not in row):
        return row
    from verikit.records import TRLRow

    trl = validated(TRLRow, row, path=path, line=index)
    wrong = [i for i, value in enumerate(trl.labels) if value < 0.5]
    return {
        "id": row.get("id", index),
        "problem": trl.prompt,
        "steps": trl.completions,
        "label": wrong[0] if wrong else -1,
        "final_answer_correct": trl.final_correct if trl.final_correct is not None else not wrong,
        "step_labels": [value >= 0.5 for value in trl.labels],
        "problem_id": row.get("problem_id"),
    }


def make_rows(
    dataset: str,
    split: str,
    generator: str,
    problems: int,
    samples: int,
    temperature: float = 1.0,
    seed: int = 0,
    max_new_tokens: int = 256,
    batch_size: int = 512,
    device: str = "auto",
    backend: str = "transformers",
) -> tuple[list[dict], dict]:
    """Sample ``samples`` solutions per problem with ``generator`` and label them with the domain's gold labeller.

    Returns the rows and counts, including solutions left out because they have no steps (never silently).
    """
    from verikit import components
    from verikit.metrics import first_error

    loaded = components.load_dataset(dataset, split=split, limit=problems)
    domain = components.domain(loaded[0].domain)
    labeller = domain.load_gold_labeller()
    if labeller is None:
        raise DataError(f"domain {domain.name!r} has no gold step labeller, so rows cannot be labelled", field="domain")
    checker, splitter = components.answer_checker(domain.answer_checker), components.step_splitter(domain.step_splitter)
    from verikit.interfaces import accepted_settings

    factory = components.lookup("completers", backend)
    completer = factory(
        model=generator,
        **accepted_settings(factory, batch_size=batch_size, device=device, max_new_tokens=max_new_tokens),
    )
    outputs = completer.complete([domain.prompt(p) for p in loaded], n=samples, temperature=temperature, seed=seed)
    from verikit.format import STEP_TAG

    rows, no_steps, tagged = [], 0, 0
    for problem, texts in zip(loaded, outputs):
        for index, text in enumerate(texts):
            steps = splitter.split(text.rstrip())
            if not steps:
                no_steps += 1
                continue
            if any(STEP_TAG in step for step in steps):  # a tag-reading PRM could not score it
                tagged += 1
                continue
            verdicts = labeller(problem, steps)
            rows.append(
                ProcessBenchRow(
                    id=f"{problem.id}-{index}",
                    generator=str(generator),
                    problem=problem.question,
                    problem_id=problem.id,
                    steps=steps,
                    final_answer_correct=bool(checker.is_correct(text, problem.gold_answer)),
                    label=first_error(verdicts),
                    step_labels=verdicts,
                ).model_dump()
            )
    counts = {
        "problems": len(loaded),
        "solutions": len(loaded) * samples,
        "rows": len(rows),
        "no_steps": no_steps,
        "step_tag_in_text": tagged,
        "erroneous": sum(r["label"] != -1 for r in rows),
        "final_correct": sum(r["final_answer_correct"] for r in rows),
    }
    return rows, counts
