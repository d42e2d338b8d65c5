"""PRM800K (Lightman et al., 2023) as labelled solutions: the chosen path of every row, and optionally every rated
alternative step.

A PRM800K row is one labelling session: at each step the labeller rated several candidate completions (1 good, 0
neutral, -1 bad) and went on with one (``chosen_completion``) or wrote their own (``human_completion``). The session
ended with ``finish_reason``:

* ``solution`` — the path reached an answer: every step on it is a labelled step;
* ``found_error`` — the last step has no chosen completion: the path ends with the completion rated -1 there
  (the error the labeller found), labelled bad;
* ``give_up`` and ``bad_problem`` — no usable path: the row is skipped, with its reason;
* quality-control and initial-screening questions repeat other rows: skipped unless asked for.

Neutral (0) counts as good: PRM800K's own reading ("no mistake", even if not helpful). A human completion is good.
A row that cannot be read is *reported* with its file, line and reason and skipped; it never fails the file.
``alternatives=True`` also emits, for every step, each rated completion other than the one taken as its own
solution: the chosen path up to that step, then the alternative, labelled by its rating (PRM800K's value is in
those rated alternatives, not only in the path).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from verikit.jsonl import read_jsonl
from verikit.records import PRM800KRow

FINISH_REASONS = ("solution", "found_error", "give_up", "bad_problem")


def _good(rating: int | None) -> bool:
    return rating is None or rating >= 0


def _steps_taken(row: PRM800KRow) -> list[tuple[str, bool, object]]:
    """(text, good, the step record) along the path the labeller took; ValueError with the reason if there is none."""
    reason = row.label.finish_reason
    if reason in ("give_up", "bad_problem"):
        raise ValueError(f"finish_reason {reason}")
    if reason is not None and reason not in FINISH_REASONS:
        raise ValueError(f"unknown finish_reason {reason!r}")
    taken = []
    steps = row.label.steps
    for index, step in enumerate(steps):
        if step.chosen_completion is not None:
            if not step.completions or not 0 <= step.chosen_completion < len(step.completions):
                raise ValueError(
                    f"step {index}: chosen_completion {step.chosen_completion} is not one of its "
                    f"{len(step.completions or [])} completions"
                )
            completion = step.completions[step.chosen_completion]
            if completion.rating is None:
                raise ValueError(f"step {index}: the chosen completion has no rating")
            taken.append((completion.text, _good(completion.rating), step))
        elif step.human_completion is not None:
            taken.append((step.human_completion.text, True, step))
        elif index == len(steps) - 1 and reason == "found_error":
            bad = [c for c in step.completions or [] if c.rating == -1]
            if not bad:
                raise ValueError(f"step {index}: found_error, but no completion of the last step is rated -1")
            taken.append((bad[0].text, False, step))
        else:
            raise ValueError(f"step {index}: no chosen completion")
    if not taken:
        raise ValueError("no steps")
    return taken


def chosen_path(row: PRM800KRow) -> dict:
    """``{"question", "steps", "gold_labels", "gold_answer", "finish_reason"}`` along the path the labeller took."""
    taken = _steps_taken(row)
    return {
        "question": row.question.problem,
        "steps": [t for t, _, _ in taken],
        "gold_labels": [g for _, g, _ in taken],
        "gold_answer": row.question.ground_truth_answer,
        "finish_reason": row.label.finish_reason,
    }


def alternative_paths(row: PRM800KRow) -> list[dict]:
    """For each step, each rated completion other than the one taken: the path so far, then that completion."""
    taken = _steps_taken(row)
    rows = []
    for index, (text, _, step) in enumerate(taken):
        prefix = taken[:index]
        for completion in step.completions or []:
            if completion.rating is None or completion.text == text:
                continue
            rows.append(
                {
                    "question": row.question.problem,
                    "steps": [t for t, _, _ in prefix] + [completion.text],
                    "gold_labels": [g for _, g, _ in prefix] + [_good(completion.rating)],
                    "gold_answer": row.question.ground_truth_answer,
                    "finish_reason": "alternative",
                }
            )
    return rows


@dataclass
class PRM800KImport:
    rows: list[dict]
    skipped: list[dict] = field(default_factory=list)  # {"where": "file:line", "reason": …}

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(s["reason"].split(":")[0] for s in self.skipped))


def import_prm800k(path: str | Path, alternatives: bool = False, quality_control: bool = False) -> PRM800KImport:
    """Every usable row of a PRM800K JSONL file as labelled solutions (each with ``source`` = file:line); the rows
    that are not usable are listed in ``skipped`` with their reason. A row that is not PRM800K at all (a wrong
    type, a missing ``question.problem``) is still an error naming its file, line and field."""
    result = PRM800KImport([])
    for line, row in read_jsonl(path, PRM800KRow):
        where = f"{path}:{line}"
        if not quality_control and (row.is_quality_control_question or row.is_initial_screening_question):
            kind = "quality_control" if row.is_quality_control_question else "initial_screening"
            result.skipped.append({"where": where, "reason": f"{kind} question"})
            continue
        try:
            result.rows.append({**chosen_path(row), "source": where})
            if alternatives:
                result.rows += [{**alt, "source": where} for alt in alternative_paths(row)]
        except ValueError as exc:
            result.skipped.append({"where": where, "reason": str(exc)})
    return result
