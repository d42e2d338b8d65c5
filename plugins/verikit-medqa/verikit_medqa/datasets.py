"""Multiple-choice JSONL in the MedQA schema: ``{"question": str, "options": {"A": str, …}, "answer": "C"}``.

MedQA's own files also carry ``answer_idx`` (the letter) with ``answer`` as the option's text; both forms
are read, and when both are there they must agree. Every malformed row is a ``DataError`` naming the
file, the line and the field — nothing is skipped.
"""

from __future__ import annotations

from pathlib import Path

from verikit import DataError, Problem
from verikit.jsonl import read_jsonl
from verikit.paths import data_dir as resolve_data_dir
from verikit.records import Row
from verikit_medqa.checker import LETTERS, normalize_option_text


class MultipleChoiceRow(Row):
    """MedQA/MedMCQA style: the question, options by letter, the answer."""

    question: str
    options: dict
    answer: str


SAMPLE = Path(__file__).parent / "data" / "sample.jsonl"
SAMPLE_SPLITS = ("dev", "test")


def format_question(question: str, options: dict[str, str]) -> str:
    """The question with its options, one per line, as the model sees it."""
    return question.strip() + "\n" + "\n".join(f"({letter}) {text.strip()}" for letter, text in options.items())


def _options(record: dict, path: Path, line: int) -> dict[str, str]:
    options = record["options"]
    if len(options) < 2:
        raise DataError(f"needs at least two options, got {len(options)}", path=path, line=line, field="options")
    for letter, text in options.items():
        if letter not in LETTERS:
            raise DataError(
                f"option key {letter!r} is not one of {', '.join(LETTERS)}", path=path, line=line, field="options"
            )
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"option {letter} must be a non-empty string", path=path, line=line, field="options")
    return dict(sorted(options.items()))


def _gold_letter(record: dict, options: dict[str, str], path: Path, line: int) -> str:
    answer, index = record["answer"], record.get("answer_idx")
    if index is not None:
        if not isinstance(index, str) or index not in options:
            raise DataError(
                f"answer_idx {index!r} is not one of the options {', '.join(options)}",
                path=path,
                line=line,
                field="answer_idx",
            )
        if normalize_option_text(answer) not in (normalize_option_text(options[index]), index.casefold()):
            raise DataError(
                f"answer {answer!r} is not the text of option {index}", path=path, line=line, field="answer"
            )
        return index
    letter = answer.strip().strip("()").upper()
    if letter not in options:
        raise DataError(
            f"answer {answer!r} is not one of the option letters {', '.join(options)}",
            path=path,
            line=line,
            field="answer",
        )
    return letter


def load_multiple_choice(path: str | Path, prefix: str, limit: int | None = None) -> list[Problem]:
    """Problems from one JSONL file; the gold answer is ``"C: <option text>"`` so text answers can be graded."""
    path = Path(path)
    problems = []
    for line, row in read_jsonl(path, MultipleChoiceRow):
        record = row.model_dump()
        if not record["question"].strip():
            raise DataError("empty question", path=path, line=line, field="question")
        options = _options(record, path, line)
        letter = _gold_letter(record, options, path, line)
        problems.append(
            Problem(
                id=str(record.get("id") or f"{prefix}-{line}"),
                question=format_question(record["question"], options),
                gold_answer=f"{letter}: {options[letter].strip()}",
                domain="medqa",
                gold_solution=record.get("explanation"),
                metadata={"options": options, "answer_letter": letter},
            )
        )
        if limit is not None and len(problems) >= limit:
            break
    return problems


def load_sample(split: str = "test", data_dir=None, limit: int | None = None) -> list[Problem]:
    """The hand-written sample bundled with the plugin (``dev``: the first 6 rows, ``test``: the rest)."""
    if split not in SAMPLE_SPLITS:
        raise DataError(f"dataset 'medqa-sample' has no split {split!r}; choose one of {', '.join(SAMPLE_SPLITS)}")
    problems = load_multiple_choice(SAMPLE, "medqa-sample")
    chosen = problems[:6] if split == "dev" else problems[6:]
    return chosen[:limit]


def load_medqa(split: str = "test", data_dir=None, limit: int | None = None) -> list[Problem]:
    """Real MedQA rows from ``$VERIKIT_DATA/medqa/<split>.jsonl`` (not shipped: download MedQA yourself)."""
    path = resolve_data_dir(data_dir) / "medqa" / f"{split}.jsonl"
    return load_multiple_choice(path, f"medqa-{split}", limit=limit)
