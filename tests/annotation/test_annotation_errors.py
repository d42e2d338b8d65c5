"""`verikit annotate` as a user meets it when something is wrong: nothing written by a run that fails
validation, one writer per folder, errors retried on request, a non-zero exit when nothing is labelled."""

import subprocess
import sys
import textwrap

import pytest

from verikit.annotation.config import AnnotationConfig
from verikit.annotation.driver import annotate
from verikit.annotation.storage import AnnotationStore, load_records
from verikit.errors import DataError
from verikit.plugins import reset_plugins


def annotate_args(model, out, *extra):
    return [
        "annotate",
        "--dataset",
        "sums",
        "--split",
        "dev",
        "--limit",
        "2",
        "--generator",
        model,
        "--samples",
        "2",
        "--n",
        "2",
        "--max-new-tokens",
        "24",
        "--device",
        "cpu",
        "--out",
        out,
        *extra,
    ]


def _sums_config(model):
    return AnnotationConfig(
        dataset="sums",
        split="dev",
        limit=2,
        generator=str(model),
        samples_per_problem=2,
        n_rollouts=2,
        max_new_tokens=24,
        device="cpu",
    )


def bad_gold_for(monkeypatch, which):
    """Make the gold answers of problems ``which`` (indices) unreadable to the sums checker."""
    import toy_domain

    real = toy_domain.load_sums

    def with_bad_gold(split="test", data_dir=None, limit=None):
        loaded = real(split, data_dir, limit)
        return [p.model_copy(update={"gold_answer": "seventeen"}) if i in which else p for i, p in enumerate(loaded)]

    monkeypatch.setattr(toy_domain, "load_sums", with_bad_gold)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"--dataset": "sumz"}, "did you mean 'sums'"),
        ({"--generator": "missing-model-folder/"}, "no such model folder"),
        (
            {"--strategy": "greedy"},
            "--strategy: unknown annotation strategy 'greedy' (registered: binary-search, early-exit, naive)",
        ),
        ({"--estimator": "hardd"}, "--estimator: unknown estimator 'hardd'; did you mean 'hard'?"),
    ],
)
def test_a_run_that_fails_validation_writes_nothing(toy, toy_lm, tmp_path, change, words, run_cli):
    args = annotate_args(toy_lm, tmp_path / "ann")
    for option, value in change.items():
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    code, output = run_cli(args)
    assert code == 2 and words in output
    assert len(output.strip().splitlines()) == 1
    assert not (tmp_path / "ann").exists()
    # the corrected command is not refused as "another configuration"
    code, output = run_cli(annotate_args(toy_lm, tmp_path / "ann"))
    assert code == 0, output


def test_gold_answers_are_checked_before_sampling_and_nothing_labelled_is_an_error(
    toy, toy_lm, tmp_path, monkeypatch, run_cli
):
    bad_gold_for(monkeypatch, {0, 1})
    from verikit.completers.transformers import TransformersCompleter

    monkeypatch.setattr(
        TransformersCompleter, "complete", lambda *a, **k: pytest.fail("sampled although no gold is understood")
    )
    code, output = run_cli(annotate_args(toy_lm, tmp_path / "ann"))
    assert code == 2 and "no gold answer is understood" in output and "'seventeen'" in output
    assert not (tmp_path / "ann").exists()


def test_nothing_labelled_exits_non_zero(toy, toy_lm, tmp_path, monkeypatch, run_cli):
    from verikit.completers.transformers import TransformersCompleter

    monkeypatch.setattr(TransformersCompleter, "complete", lambda self, prompts, n=1, **k: [[""] * n for _ in prompts])
    code, output = run_cli(annotate_args(toy_lm, tmp_path / "ann"))
    assert code == 2 and "no solution" in output and "was labelled" in output


def test_retry_errors_recomputes_the_records_that_failed(toy, toy_lm, tmp_path, monkeypatch):
    config = _sums_config(toy_lm)
    with monkeypatch.context() as patch:
        bad_gold_for(patch, {0})
        first = annotate(config, tmp_path / "ann", progress=False)
    reset_plugins()  # the registry resolved the patched loader: look the real one up again
    assert first.errors.get("gold answer not understood") == 2 and first.gold_errors
    resumed = annotate(config, tmp_path / "ann", progress=False)  # the fix alone changes nothing: records are reused
    assert resumed.errors.get("gold answer not understood") == 2
    retried = annotate(config, tmp_path / "ann", progress=False, retry_errors=True)
    assert retried.retried == 4 and "gold answer not understood" not in retried.errors  # the whole chunk re-ran
    assert len(load_records(tmp_path / "ann")) == 4


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    folder = tmp_path / "ann"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        from verikit.annotation.storage import AnnotationStore
        AnnotationStore({str(folder)!r}, {{"x": 1}})
        print("holding", flush=True)
        time.sleep(30)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(DataError, match="another annotation run .pid \\d+. is writing this folder"):
            AnnotationStore(folder, {"x": 1})
        AnnotationStore(folder)  # reading is never blocked
    finally:
        holder.kill()
        holder.wait()
    AnnotationStore(folder, {"x": 1}).close()  # a killed writer leaves no stale lock


def test_a_checker_that_raises_is_that_rows_error_and_annotation_goes_on(toy, toy_lm, tmp_path, monkeypatch):
    """The never-raise contract broken on some texts: those rows record the error (naming the checker, the method
    and the contract); the others are labelled as usual."""
    import toy_domain

    calls = {"n": 0}
    real = toy_domain.SumChecker.extract

    def flaky(self, text):
        calls["n"] += 1
        if calls["n"] % 5 == 0:
            raise RuntimeError("cannot read this")
        return real(self, text)

    monkeypatch.setattr(toy_domain.SumChecker, "extract", flaky)
    result = annotate(_sums_config(toy_lm), tmp_path / "ann", progress=False)
    records = load_records(tmp_path / "ann")
    assert len(records) == 4  # nothing dropped
    raised = [r for r in records if r["error"] and "raised" in r["error"]]
    labelled = [r for r in records if not r["error"] and r["hard_labels"]]
    assert raised and labelled, [r["error"] for r in records]
    for record in raised:
        assert record["error"].startswith("checker 'sums' raised in ")
        assert "RuntimeError: cannot read this" in record["error"] and "never raises" in record["error"]
        assert record["hard_labels"] == []
    assert sum(result.errors.values()) >= len(raised)


def test_a_checker_that_always_raises_labels_nothing_and_says_why(toy, toy_lm, tmp_path, monkeypatch):
    import toy_domain

    def broken(self, pred, gold):
        raise ValueError("boom")

    monkeypatch.setattr(toy_domain.SumChecker, "equivalent", broken)
    monkeypatch.setattr(toy_domain.SumChecker, "normalize", lambda self, a: a)
    with pytest.raises(DataError, match="gold answer"):  # the gold check runs the same method first
        annotate(_sums_config(toy_lm), tmp_path / "ann", progress=False)
