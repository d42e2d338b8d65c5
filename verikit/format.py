"""The Math-Shepherd text format: the step tag, what a PRM reads, and the released row layout.

Every stage speaks it — annotation exports it, reward models train on it and read it, verification and RL
decide with it which samples a PRM can read — so it lives here, below all of them.

* ``peiyi9979/math-shepherd-mistral-7b-prm`` reads ``f"{question} {solution}"`` where every step ends with
  `` ки`` and steps are joined by newlines (:func:`prm_input`); at each tag it compares ``+`` and ``-``.
* A released Math-Shepherd row (``peiyi9979/Math-Shepherd``) is ``{"input", "label", "task"}``: ``input``
  is that text, ``label`` the same text with each tag replaced by ``+`` or ``-``
  (:func:`to_math_shepherd` / :func:`from_math_shepherd`, byte-compatible with the released rows).
* TRL's stepwise-supervision rows are ``{"prompt", "completions", "labels"}`` (:func:`to_trl`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from verikit.errors import DataError
from verikit.records import MathShepherdRow, validated

STEP_TAG = "ки"
GOOD_TOKEN = "+"
BAD_TOKEN = "-"
_TAG = " " + STEP_TAG


def tagged_solution(steps: Sequence[str], tag: str = STEP_TAG) -> str:
    """Steps each followed by `` ки``, joined by newlines (Math-Shepherd's ``input`` after the question)."""
    return "\n".join(f"{step} {tag}" for step in steps)


def prm_input(question: str, steps: Sequence[str], tag: str = STEP_TAG) -> str:
    """What the PRM reads: ``f"{question} {tagged solution}"``, byte-for-byte the released format."""
    return f"{question} {tagged_solution(steps, tag)}"


_STEP_PREFIX = __import__("re").compile(r"^Step \d+:\s*")


def with_step_prefixes(steps: Sequence[str]) -> list[str]:
    """``["a", "b"]`` → ``["Step 1: a", "Step 2: b"]``, the layout the released Math-Shepherd PRM was trained on
    (a step that already has its prefix keeps it, renumbered)."""
    return [f"Step {index}: {_STEP_PREFIX.sub('', step, count=1)}" for index, step in enumerate(steps, 1)]


def without_step_prefixes(steps: Sequence[str]) -> list[str]:
    """The steps with any leading ``Step i:`` removed (ProcessBench's own layout)."""
    return [_STEP_PREFIX.sub("", step, count=1) for step in steps]


def math_shepherd_line(row: dict) -> str:
    """One JSONL line exactly as the released Math-Shepherd file writes it: keys ``input``, ``label``, ``task`` in
    that order, non-ASCII escaped (``\\u043a\\u0438``), ``", "`` and ``": "`` separators, a newline."""
    import json

    return json.dumps({"input": row["input"], "label": row["label"], "task": row["task"]}, ensure_ascii=True) + "\n"


def readable_steps(splitter, text: str) -> list[str] | None:
    """The steps of ``text``, or None where a tag-reading PRM cannot read it: no steps, or the step tag
    inside a step (the PRM could not tell its own tags from the text's)."""
    steps = splitter.split(text.rstrip())
    return steps if steps and not any(STEP_TAG in step for step in steps) else None


def to_math_shepherd(record: dict, task: str | None = None, labels: str = "hard_labels") -> dict:
    """One Math-Shepherd row from an annotation record (its steps and hard labels by default)."""
    steps, flags = record["steps"], record[labels]
    if len(steps) != len(flags):
        raise DataError(f"record {record.get('key')}: {len(steps)} steps but {len(flags)} labels")
    if labels == "soft_labels":
        flags = [value >= 0.5 for value in flags]
    marked = "\n".join(f"{step} {GOOD_TOKEN if good else BAD_TOKEN}" for step, good in zip(steps, flags))
    return {
        "input": prm_input(record["question"], steps),
        "label": f"{record['question']} {marked}",
        "task": task or record.get("task") or record.get("domain", "").upper(),
    }


def from_math_shepherd(row: dict, *, path: str | Path = "<rows>", line: int | None = None) -> dict:
    """A record (question, steps, hard labels) from a released Math-Shepherd row; errors name file:line:field."""
    shepherd = validated(MathShepherdRow, row, path=path, line=line)
    text, label = shepherd.input, shepherd.label
    # The question ends at the " Step 1:" that opens the first tagged step: the last one before the first tag, so a
    # question that itself contains " Step 1:" is not cut there.
    first_tag = text.find(_TAG)
    start = text.rfind(" Step 1:", 0, first_tag if first_tag >= 0 else len(text))
    if start < 0:
        raise DataError("no ' Step 1:' after the question", path=path, line=line, field="input")
    question, body = text[:start], text[start + 1 :]
    if not body.endswith(_TAG):
        raise DataError(f"the last step does not end with {_TAG!r}", path=path, line=line, field="input")
    steps = body[: -len(_TAG)].split(_TAG + "\n")
    flags, cursor = [], len(question) + 1
    if label[:cursor] != text[:cursor]:
        raise DataError("the question differs from the input's", path=path, line=line, field="label")
    for index, step in enumerate(steps):
        if label[cursor : cursor + len(step)] != step:
            raise DataError(f"step {index + 1} differs from the input's", path=path, line=line, field="label")
        cursor += len(step)
        mark = label[cursor : cursor + 2]
        if mark not in (" +", " -"):
            raise DataError(
                f"step {index + 1} has no ' +' or ' -' label (found {mark!r})", path=path, line=line, field="label"
            )
        flags.append(mark == " +")
        cursor += 2 + (1 if index < len(steps) - 1 else 0)
    if cursor != len(label):
        raise DataError("text after the last label", path=path, line=line, field="label")
    return {"question": question, "steps": steps, "hard_labels": flags, "task": shepherd.task}


def to_trl(record: dict, labels: str = "hard_labels") -> dict:
    """A TRL stepwise-supervision row. ``labels="soft_labels"`` keeps the soft values (floats) as they are."""
    return {"prompt": record["question"], "completions": list(record["steps"]), "labels": list(record[labels])}
