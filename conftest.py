"""Fixtures shared by the core's and the plugins' tests."""

import os

import pytest

from verikit.errors import DataError
from verikit.paths import data_dir
from verikit.plugins import reset_plugins


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch):
    """Each test sees plugins loaded from the current environment, not a previous test's host."""
    monkeypatch.delenv("VERIKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("VERIKIT_STRICT_PLUGINS", raising=False)
    reset_plugins()
    yield
    reset_plugins()


@pytest.fixture(scope="session")
def shared_data_dir():
    """The real benchmark folder (``$VERIKIT_DATA`` or ``../shared/data``); required in CI, else skipped."""
    try:
        return data_dir()
    except DataError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """``run_cli(args)`` runs ``verikit ARGS`` in this process as ``main`` does; returns (exit code, all output).

    Fails the test if anything printed a traceback: every error a user meets is one message.
    """
    import sys

    from verikit.cli import main

    def run(args):
        monkeypatch.setattr(sys, "argv", ["verikit", *map(str, args)])
        monkeypatch.setenv("COLUMNS", "400")  # rich wraps long messages; a message is judged whole
        code = 0
        try:
            main()
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert "Traceback" not in output
        return code, output

    return run


@pytest.fixture
def annotation_record():
    """A builder of valid :class:`~verikit.records.AnnotationRecord` dicts: ``annotation_record(problem_id="p1",
    steps=[...], hard_labels=[...])``; per-step fields not given follow the steps and labels."""
    from verikit.annotation.storage import record_key
    from verikit.records import AnnotationRecord

    def build(**fields):
        steps = fields.get("steps", ["Step 1: a"])
        hard = fields.get("hard_labels", [True] * len(steps))
        record = {
            "chunk": 0,
            "problem_id": "p",
            "domain": "toy",
            "question": "q",
            "gold_answer": "1",
            "sample_index": 0,
            "solution": "\n".join(steps),
            "steps": steps,
            "final_answer": "1",
            "final_correct": all(hard),
            "hard_labels": hard,
            "soft_labels": [float(x) for x in hard],
            "step_rollouts": [1] * len(steps),
            "step_correct": [int(x) for x in hard],
            "verdicts": ["1" if x else "0" for x in hard],
            "rollouts_used": 0,
            "rollouts_generated": 0,
            "rollout_tokens": 0,
            "error": None,
            "strategy": "naive",
            "n_rollouts": 1,
            "generator": "g",
            "completer": "g",
            "seed": 0,
            "config_hash": "0",
        }
        record.update(fields)
        record.setdefault("key", record_key(record["problem_id"], record["sample_index"], record["solution"]))
        return AnnotationRecord(**record).model_dump()

    return build


def _spin():
    while True:
        pass


@pytest.fixture
def busy_machine():
    """``with busy_machine():`` runs the block with four processes spinning on the CPUs (a loaded machine)."""
    import contextlib
    import multiprocessing

    @contextlib.contextmanager
    def busy():
        hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(4)]
        for hog in hogs:
            hog.start()
        try:
            yield
        finally:
            for hog in hogs:
                hog.kill()

    return busy


@pytest.fixture
def paper_data_dir(shared_data_dir, tmp_path, monkeypatch):
    """The benchmark folder plus a few MetaMathQA-format rows (``metamathqa/``), as ``$VERIKIT_DATA``: MetaMathQA is
    on the hub, which tests cannot reach, and the paper's recipes fine-tune on it. The rows are GSM8K train problems
    with their gold solutions rewritten in MetaMathQA's shape (``The answer is: X``)."""
    import json

    folder = tmp_path / "paper-data"
    folder.mkdir()
    for child in shared_data_dir.iterdir():
        (folder / child.name).symlink_to(child.resolve())
    rows = []
    for line in (shared_data_dir / "gsm8k" / "train.jsonl").read_text().splitlines()[:40]:
        row = json.loads(line)
        work, answer = row["answer"].rsplit("####", 1)
        rows.append(
            {
                "query": row["question"],
                "response": f"{work.strip()}\nThe answer is: {answer.strip()}",
                "type": "GSM_AnsAug",
            }
        )
    (folder / "metamathqa").mkdir()
    (folder / "metamathqa" / "MetaMathQA-395K.json").write_text(json.dumps(rows))
    monkeypatch.setenv("VERIKIT_DATA", str(folder))
    return folder
