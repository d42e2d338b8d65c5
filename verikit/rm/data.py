"""Training examples for reward models, from annotation records or the released formats.

A :class:`StepExample` is a question, its steps and one target per step (``None`` where the step is not
trained on). A PRM trains on every step (hard 0/1 or soft fraction); an ORM on the last step only, with
the solution's final correctness — the paper's baseline, scored like a PRM at the final tag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from verikit.errors import DataError
from verikit.format import STEP_TAG
from verikit.metrics import first_error

IGNORE = -100.0  # target of positions that are not trained on (every non-tag position, ORM's earlier tags)


@dataclass
class StepExample:
    question: str
    steps: list[str]
    targets: list[float | None]
    correct: bool | None = None  # the solution's final answer is right (used by the optional LM loss)
    source: str = ""  # where it came from, for error messages: "FILE:LINE" or an annotation key


@dataclass
class ExampleSet:
    examples: list[StepExample]
    skipped: dict[str, int] = field(default_factory=dict)  # reason → records not usable (reported, not hidden)
    domain: str | None = None  # the records' domain, when they came from verikit annotations

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count


def first_error_targets(targets: list[float | None]) -> list[float | None]:
    """``targets`` with those after the first bad step (below 0.5) set to None: no loss there."""
    first = first_error([t is None or t >= 0.5 for t in targets])  # an unlabelled step is not an error
    if first < 0:
        return list(targets)
    return list(targets[: first + 1]) + [None] * (len(targets) - first - 1)


def up_to_first_error(example: StepExample) -> StepExample:
    """``example`` with :func:`first_error_targets`."""
    return dataclasses.replace(example, targets=first_error_targets(example.targets))


def examples_from_records(records: list[dict], objective: str = "prm", labels: str = "hard") -> ExampleSet:
    """``objective`` prm (targets per step from ``{labels}_labels``) or orm (final correctness, last step)."""
    if objective not in ("prm", "orm"):
        raise ValueError(f"objective must be 'prm' or 'orm', not {objective!r}")
    if labels not in ("hard", "soft"):
        raise ValueError(f"labels must be 'hard' or 'soft', not {labels!r}")
    result = ExampleSet([], domain=next((r.get("domain") for r in records if r.get("domain")), None))
    for record in records:
        source = f"annotation {record.get('key')}"
        if record.get("duplicate_of") is not None:
            result.skip("duplicate solution")
            continue
        if record.get("error"):
            result.skip(record["error"].split(":")[0])
            continue
        steps = list(record["steps"])
        if any(STEP_TAG in step for step in steps):  # the PRM could not tell its own tags from the text's
            result.skip(f"a step contains the step tag {STEP_TAG!r}")
            continue
        correct = bool(record.get("final_correct"))
        if objective == "orm":
            targets: list[float | None] = [None] * (len(steps) - 1) + [1.0 if correct else 0.0]
        else:  # records are AnnotationRecords: one label per step, each in [0, 1]
            values = record.get(f"{labels}_labels")
            if not isinstance(values, list) or len(values) != len(steps):
                raise DataError(f"{len(steps)} steps but labels {values!r}", path=source, field=f"{labels}_labels")
            targets = [float(v) for v in values]
        result.examples.append(StepExample(record["question"], steps, targets, correct, source))
    return result


def _table_rows(path: Path):
    """``(row number, row)`` of a JSONL file, or of a parquet file (what ``verikit export --format parquet`` and TRL's
    hub datasets are stored as; read with pyarrow, which ``datasets`` brings)."""
    from verikit.jsonl import read_jsonl

    if path.suffix != ".parquet":
        yield from read_jsonl(path)
        return
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow comes with datasets and the dev extra
        raise DataError("reading parquet needs pyarrow (pip install pyarrow)", path=path) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # not parquet, truncated, …: one line naming the file
        raise DataError(f"not a readable parquet file: {exc}", path=path) from None
    for index, row in enumerate(table.to_pylist(), start=1):
        yield index, row


def load_examples(source: str | Path, objective: str = "prm", labels: str = "hard") -> ExampleSet:
    """Examples from an annotation folder, a Math-Shepherd JSONL (``input``/``label``) or a TRL stepwise JSONL
    (``prompt``/``completions``/``labels``), or the same rows as parquet (rows are numbered from 1 in errors)."""
    from verikit.annotation.storage import load_records
    from verikit.format import from_math_shepherd
    from verikit.records import TRLRow, validated

    path = Path(source)
    if path.is_dir():
        return examples_from_records(load_records(path), objective, labels)
    if not path.exists():
        raise DataError("no such file or annotation folder", path=path)
    rows = list(_table_rows(path))
    if rows and "hard_labels" in rows[0][1] and "steps" in rows[0][1]:  # verikit records (export --format parquet)
        return examples_from_records([row for _, row in rows], objective, labels)
    records = []
    for line, row in rows:
        if "input" in row:
            converted = from_math_shepherd(row, path=path, line=line)
            flags = [float(flag) for flag in converted["hard_labels"]]
            final = all(flags)  # the released rows carry no final verdict; all-good steps is the closest reading
        elif "completions" in row:
            trl = validated(TRLRow, row, path=path, line=line)
            converted = {"question": trl.prompt, "steps": trl.completions}
            flags = trl.labels
            final = trl.final_correct if trl.final_correct is not None else all(v >= 0.5 for v in flags)
        else:
            raise DataError(
                "neither a Math-Shepherd row (input/label) nor a TRL row (prompt/completions/labels)",
                path=path,
                line=line,
            )
        if labels == "soft" and "completions" not in row:
            raise DataError(
                "soft labels need verikit annotations or TRL rows with fractional labels",
                path=path,
                line=line,
                field="label",
            )
        records.append(
            {
                "key": f"{path}:{line}",
                "question": converted["question"],
                "steps": converted["steps"],
                "hard_labels": [v >= 0.5 for v in flags],
                "soft_labels": list(flags),
                "final_correct": bool(final),
                "error": None,
            }
        )
    return examples_from_records(records, objective, labels)


def tokenize_example(example: StepExample, tokenizer, convention, max_length: int, lm_loss: bool) -> dict:
    """``input_ids``, per-position ``tag_targets`` (IGNORE off the tags) and ``lm_labels`` (-100 off the solution).

    Every step must own exactly one tag position; truncation drops the later tags (counted by the caller).
    """
    from verikit.format import prm_input

    text = prm_input(example.question, example.steps, convention.tag)
    encoded = tokenizer(text, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    positions = [i for i, token in enumerate(ids) if token == convention.tag_id]
    if len(positions) != len(example.steps):
        raise DataError(
            f"{len(example.steps)} steps but {len(positions)} step-tag tokens after tokenizing "
            f"(does a step contain the tag {convention.tag!r}?)",
            path=example.source,
            field="steps",
        )
    ids = ids[:max_length]
    targets = [IGNORE] * len(ids)
    for position, target in zip(positions, example.targets):
        if position < len(ids) and target is not None:
            targets[position] = float(target)
    lm_labels = [-100] * len(ids)
    if lm_loss and example.correct:
        solution_start = len(example.question) + 1
        for i, (token, (start, _)) in enumerate(zip(ids, offsets)):
            if start >= solution_start and token != convention.tag_id and i > 0:
                lm_labels[i] = token
    return {
        "input_ids": ids,
        "tag_targets": targets,
        "lm_labels": lm_labels,
        "dropped_tags": sum(1 for p in positions if p >= max_length),
    }


def padding_id(tokenizer) -> int:
    """The tokenizer's pad id (0 when it has none: right padding is masked, so its value never matters)."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


def right_padded(sequences, pad_id: int):
    """``(input_ids, attention_mask)`` tensors with each sequence left-aligned and padded on the right.

    Training and scoring read every position of the text (no generation), so right padding is enough.
    """
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, sequence in enumerate(sequences):
        ids[i, : len(sequence)] = torch.tensor(sequence)
        mask[i, : len(sequence)] = 1
    return ids, mask


def length_sorted_batches(lengths, batch_size: int):
    """Index lists of at most ``batch_size``, of similar lengths (less padding); callers restore the order."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def collate(pad_id: int):
    """Right-pads a training batch: ids and mask, per-position tag targets and LM labels."""
    import torch

    def _collate(rows):
        ids, mask = right_padded([r["input_ids"] for r in rows], pad_id)
        targets = torch.full(ids.shape, IGNORE, dtype=torch.float32)
        lm = torch.full(ids.shape, -100, dtype=torch.long)
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            targets[i, :n] = torch.tensor(row["tag_targets"], dtype=torch.float32)
            lm[i, :n] = torch.tensor(row["lm_labels"])
        return {"input_ids": ids, "attention_mask": mask, "tag_targets": targets, "lm_labels": lm}

    return _collate
