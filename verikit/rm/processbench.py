"""ProcessBench-style rows: loading the benchmark's files and making such rows where gold step labels exist.

Schema: ``id, generator, problem, steps, final_answer_correct, label`` where ``label`` is the index of the
first wrong step or -1 — optionally with ``step_labels`` (one verdict per step, from a domain's exact
labeller) and ``problem_id`` (which rows share a problem, for within-problem ranking).
"""

from __future__ import annotations

import json
from pathlib import Path

from verikit.errors import DataError

_FIELDS = {"id": (str, int), "problem": str, "steps": list, "label": int}


def load_processbench(path: str | Path) -> list[dict]:
    """Rows of a ProcessBench JSON file (a list) or JSONL file; errors name file, row and field."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise DataError(f"not JSON: {exc.msg}", path=path, line=exc.lineno) from None
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError("expected an object", path=path, line=index)
        for field, kind in _FIELDS.items():
            if not isinstance(row.get(field), kind) or isinstance(row.get(field), bool):
                raise DataError(f"missing or not {getattr(kind, '__name__', 'str/int')}", path=path, line=index, field=field)
        if not row["steps"] or not all(isinstance(s, str) for s in row["steps"]):
            raise DataError("steps must be a non-empty list of strings", path=path, line=index, field="steps")
        if not -1 <= row["label"] < len(row["steps"]):
            raise DataError(f"label {row['label']} is not -1 or a step index below {len(row['steps'])}", path=path, line=index, field="label")
        labels = row.get("step_labels")
        if labels is not None and (not isinstance(labels, list) or len(labels) != len(row["steps"])):
            raise DataError("step_labels must have one verdict per step", path=path, line=index, field="step_labels")
        if "final_answer_correct" not in row:
            row["final_answer_correct"] = row["label"] == -1
    return rows



def make_rows(dataset: str, split: str, generator: str, problems: int, samples: int, temperature: float = 1.0,
              seed: int = 0, max_new_tokens: int = 256, batch_size: int = 512, device: str = "auto") -> tuple[list[dict], dict]:
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
    completer = components.completer("transformers", model=generator, batch_size=batch_size, device=device, max_new_tokens=max_new_tokens)
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
            rows.append({
                "id": f"{problem.id}-{index}", "generator": str(generator), "problem": problem.question,
                "problem_id": problem.id, "steps": steps,
                "final_answer_correct": bool(checker.is_correct(text, problem.gold_answer)),
                "label": first_error(verdicts), "step_labels": verdicts,
            })
    counts = {"problems": len(loaded), "solutions": len(loaded) * samples, "rows": len(rows), "no_steps": no_steps,
              "step_tag_in_text": tagged,
              "erroneous": sum(r["label"] != -1 for r in rows), "final_correct": sum(r["final_answer_correct"] for r in rows)}
    return rows, counts
