"""One pydantic schema per record verikit reads or writes, and the one function that turns a schema's
complaint into a :class:`~verikit.errors.DataError` naming file, line and field.

* :class:`~verikit.types.Problem` — a task with a gold answer (dataset loaders);
* :class:`AnnotationRecord` — one annotated solution in an annotation folder's shards;
* :class:`ProcessBenchRow` — a solution with the index of its first wrong step (ProcessBench, ``prm-eval``);
* :class:`PRM800KRow` — a solution with human step ratings (PRM800K's ``label.steps``);
* :class:`TRLRow`, :class:`MathShepherdRow` — reward-model training rows in TRL's and Math-Shepherd's formats;
* :class:`ScoreRow` — a solution to score (``verikit score``); :class:`CheckRow` — a solution and its gold
  answer (``verikit check``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from verikit.errors import DataError

_KINDS = {
    "string": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "list",
    "dict": "object",
    "model": "object",
}
_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "list", dict: "object"}


#: A step label or training target: a probability (a bool counts as 0/1); NaN, inf and text are refused.
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


def type_name(value: Any) -> str:
    """How a JSON value's type is named in messages."""
    return "null" if value is None else _TYPE_NAMES.get(type(value), type(value).__name__)


def validated(schema: type[BaseModel], row: Any, *, path: str | Path | None = None, line: int | None = None) -> Any:
    """``schema.model_validate(row)``; the first complaint becomes a DataError naming ``path:line`` and the field."""
    try:
        return schema.model_validate(row)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        kind = error["type"]
        if kind == "missing":
            message = "missing"
        elif kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "model_type" and not field:
            message = f"expected a JSON object, got {type_name(error['input'])}"
        elif kind.endswith("_type") and kind[: -len("_type")] in _KINDS:
            message = f"expected {_KINDS[kind[: -len('_type')]]}, got {type_name(error['input'])}"
        else:
            message = error["msg"].removeprefix("Value error, ")
        raise DataError(message, path=path, line=line, field=field) from None


class Row(BaseModel):
    """Rows read from files people write: strict types (a number is not a string), unknown fields kept."""

    model_config = ConfigDict(strict=True, extra="allow")


class CheckRow(Row):
    solution: str
    gold: str


class ScoreRow(Row):
    """A solution to score; ``problem`` is accepted for ``question`` (ProcessBench's name)."""

    question: str
    steps: list[str] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _problem_is_the_question(cls, row: Any) -> Any:
        if isinstance(row, dict) and "question" not in row and "problem" in row:
            return {**row, "question": row["problem"]}
        return row


class TRLRow(Row):
    """TRL's stepwise-supervision row; ``labels`` are booleans or soft fractions, one per completion (step)."""

    model_config = ConfigDict(strict=False, extra="allow")  # labels: a bool or an int 0/1 reads as a probability

    prompt: Annotated[str, Field(strict=True)]
    completions: Annotated[list[str], Field(strict=True, min_length=1)]
    labels: list[Probability]
    final_correct: bool | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _numbers_only(cls, labels: Any) -> Any:
        if isinstance(labels, list):
            for index, value in enumerate(labels):
                if not isinstance(value, (bool, int, float)):
                    raise ValueError(f"step {index + 1}: label {value!r} is not a number in [0, 1]")
        return labels

    @field_validator("labels")
    @classmethod
    def _one_per_completion(cls, labels: list[float], info: ValidationInfo) -> list[float]:
        completions = info.data.get("completions")
        if completions is not None and len(labels) != len(completions):
            raise ValueError(f"{len(labels)} labels for {len(completions)} completions")
        return labels


class MathShepherdRow(Row):
    """A released Math-Shepherd row (the text layout inside ``input``/``label`` is :mod:`verikit.format`'s)."""

    input: str
    label: str
    task: str | None = None


class ProcessBenchRow(Row):
    """ProcessBench's row: ``label`` is the index of the first wrong step, -1 when every step is right.
    ``step_labels`` (one verdict per step, from an exact labeller) and ``problem_id`` (rows sharing a problem)
    are verikit's additions."""

    id: str | int
    problem: str
    steps: list[str] = Field(min_length=1)
    label: int
    generator: str | None = None
    final_answer_correct: bool | None = None
    step_labels: list[bool] | None = None
    problem_id: str | None = None

    @field_validator("label")
    @classmethod
    def _a_step_or_none(cls, label: int, info: ValidationInfo) -> int:
        steps = info.data.get("steps")
        if steps is not None and not -1 <= label < len(steps):
            raise ValueError(f"label {label} is not -1 or a step index below {len(steps)}")
        return label

    @field_validator("step_labels")
    @classmethod
    def _one_per_step(cls, labels: list[bool] | None, info: ValidationInfo) -> list[bool] | None:
        if labels is not None and len(labels) != len(info.data.get("steps") or []):
            raise ValueError("step_labels must have one verdict per step")
        return labels

    @model_validator(mode="after")
    def _correct_unless_said(self) -> ProcessBenchRow:
        if self.final_answer_correct is None:
            self.final_answer_correct = self.label == -1
        return self


class _Open(BaseModel):
    """Parts of a released format: the fields verikit reads are checked, the others kept as they are."""

    model_config = ConfigDict(extra="allow")


class _PRM800KCompletion(_Open):
    text: str
    rating: int | None = Field(default=None, ge=-1, le=1)
    flagged: bool | None = None


class _PRM800KStep(_Open):
    completions: list[_PRM800KCompletion] | None = None
    human_completion: _PRM800KCompletion | None = None
    chosen_completion: int | None = None


class _PRM800KQuestion(_Open):
    problem: str
    ground_truth_answer: str | None = None


class _PRM800KLabel(_Open):
    steps: list[_PRM800KStep] = Field(default_factory=list)
    finish_reason: str | None = None


class PRM800KRow(_Open):
    """A PRM800K line (``openai/prm800k``, phase 1 and 2): ``question.problem`` and ``label.steps[*]``, each step
    with its rated ``completions`` (1 good, 0 neutral, -1 bad), an optional ``human_completion`` and the
    ``chosen_completion`` the labeller went on with; ``label.finish_reason`` is ``solution``, ``found_error``,
    ``give_up`` or ``bad_problem``. How rows become labelled solutions is :mod:`verikit.prm800k`."""

    question: _PRM800KQuestion
    label: _PRM800KLabel
    is_quality_control_question: bool = False
    is_initial_screening_question: bool = False


class AnnotationRecord(BaseModel):
    """One sampled solution in an annotation folder: its steps, their labels and what it cost.

    A record with ``error`` set (no steps, a gold answer the checker cannot read) has no labels, nor has a
    duplicate (``duplicate_of``: the sample index of an earlier solution of the same problem with the same text,
    stored so that every sample has its record, never rolled out); every other record has one label, one rollout
    count and one verdict string per step (:func:`is_labelled`).
    """

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="Content hash of (problem id, sample index, solution): the exactly-once key.")
    chunk: int = Field(ge=0)
    problem_id: str
    domain: str
    question: str
    gold_answer: str
    sample_index: int = Field(ge=0)
    solution: str
    steps: list[str]
    final_answer: str | None
    final_correct: bool | None
    hard_labels: list[bool]
    soft_labels: list[Probability]
    step_rollouts: list[int]
    step_correct: list[int]
    verdicts: list[str] = Field(description="Per step, the rollout verdicts in order as '1'/'0' characters.")
    rollouts_used: int = Field(ge=0)
    rollouts_generated: int = Field(ge=0)
    rollout_tokens: int = Field(ge=0)
    error: str | None
    strategy: str
    n_rollouts: int = Field(ge=1)
    generator: str
    completer: str
    seed: int
    config_hash: str
    duplicate_of: int | None = Field(
        default=None, ge=0, description="Sample index of the earlier solution with this text."
    )

    @model_validator(mode="after")
    def _one_label_per_step(self) -> AnnotationRecord:
        if self.error is None and self.duplicate_of is None:
            lengths = {
                len(x)
                for x in (
                    self.steps,
                    self.hard_labels,
                    self.soft_labels,
                    self.step_rollouts,
                    self.step_correct,
                    self.verdicts,
                )
            }
            if lengths != {len(self.steps)}:
                raise ValueError(f"{len(self.steps)} steps but label lists of lengths {sorted(lengths)}")
        return self


def strict_settings(schema: type[BaseModel], values: dict) -> BaseModel:
    """``schema(**values)``, with a key that is not one of its fields refused even when the model itself ignores extra
    keys (a plugin's settings model may): a misspelt setting must fail, not be dropped. Raises pydantic's
    ``ValidationError`` (an unknown key as ``extra_forbidden`` at its place)."""
    unknown = sorted(set(values) - set(schema.model_fields))
    if unknown:
        from pydantic import ValidationError

        raise ValidationError.from_exception_data(
            schema.__name__, [{"type": "extra_forbidden", "loc": (name,), "input": values[name]} for name in unknown]
        )
    return schema(**values)


def is_labelled(record: dict) -> bool:
    """Whether an annotation record (as stored) carries step labels: no error, not a duplicate."""
    return not record.get("error") and record.get("duplicate_of") is None
