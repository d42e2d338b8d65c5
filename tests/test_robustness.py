"""The reliability suite: every registered checker and splitter survives hostile input, runs nothing, stays small.

Parametrised over whatever is registered when the tests run, so an installed third-party plugin is held to
the same contract as the bundled ones.
"""

import sys

import pytest

import verikit
from verikit.adversarial import adversarial_strings, huge_solution, many_step_solution
from verikit.errors import DataError
from verikit.plugins import get_host
from verikit.robustness import measure_call, probe_checker, probe_splitter

N_STRINGS = 10_000
LIMIT_S = 2.0
CHECKERS = sorted(e.name for e in get_host().registries["answer_checkers"].entries())
SPLITTERS = sorted(e.name for e in get_host().registries["step_splitters"].entries())


def test_the_suite_sees_every_bundled_component():
    assert {"arith", "gsm8k", "math"} <= set(CHECKERS)
    assert {"lines", "paragraphs", "step-prefix", "shepherd", "math", "gsm8k"} <= set(SPLITTERS)


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKERS)
def test_ten_thousand_adversarial_strings_through_every_checker(name):
    report = probe_checker(name, verikit.answer_checker(name), adversarial_strings(N_STRINGS, seed=2024))
    assert report.inputs == N_STRINGS
    assert (report.exceptions, report.hangs) == (0, 0), report.failures
    assert report.max_seconds < LIMIT_S, f"{name}: {report.max_seconds:.2f} s on {report.slowest_input}"


@pytest.mark.slow
@pytest.mark.parametrize("name", SPLITTERS)
def test_ten_thousand_adversarial_strings_through_every_splitter(name):
    report = probe_splitter(name, verikit.step_splitter(name), adversarial_strings(N_STRINGS, seed=7))
    assert (report.inputs, report.exceptions, report.hangs) == (N_STRINGS, 0, 0), report.failures
    assert report.max_seconds < LIMIT_S


def test_a_probe_records_exceptions_and_interrupts_hangs_instead_of_stopping():
    class Broken(verikit.AnswerChecker):
        def extract(self, text):
            if text == "hang":
                while True:
                    pass
            if text == "raise":
                raise ValueError("boom")
            return None

        def equivalent(self, pred, gold):
            return False

    report = probe_checker("broken", Broken(), ["fine", "raise", "hang"], hang_s=0.3)
    assert (report.inputs, report.exceptions, report.hangs) == (3, 1, 1)
    assert {f["error"].split(":")[0] for f in report.failures} == {"ValueError", "hang"}
    assert "hang" in report.slowest_input


WATCHED_EVENTS = ("exec", "compile", "os.system", "subprocess.Popen", "os.posix_spawn", "os.fork", "os.spawn")


def test_planted_code_never_runs_in_any_checker_or_splitter(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"open('{marker}', 'w').write('x')",
        f"exec(\"open('{marker}','w')\")",
        f"eval(\"__import__('os').system('touch {marker}')\")",
        f"(lambda: __import__('subprocess').call(['touch', '{marker}']))()",
    ]
    texts = [
        wrap.format(p=p)
        for p in payloads
        for wrap in (
            "{p}",
            "The answer is {p}",
            "The answer is \\boxed{{{p}}}",
            "#### {p}",
            "Step 1: {p} ки\nThe answer is ({p})",
        )
    ]
    checkers = {name: verikit.answer_checker(name) for name in CHECKERS}
    splitters = [verikit.step_splitter(name) for name in SPLITTERS]  # loading plugin modules runs their code: before
    for checker in checkers.values():
        if hasattr(checker, "prepare"):
            checker.prepare()  # starting a time-limit helper is not running model output
    events = []
    # Audit hooks cannot be removed; this one only records while `armed` holds, i.e. during the calls below.
    armed = [True]
    sys.addaudithook(
        lambda event, args: armed[0] and event.startswith(WATCHED_EVENTS) and events.append((event, repr(args)[:120]))
    )
    try:
        for text in texts:
            for checker in checkers.values():
                checker.equivalent(checker.extract(text), text)
                checker.equivalent(text, "0")
            for splitter in splitters:
                splitter.split(text)
    finally:
        armed[0] = False
    assert not marker.exists()
    assert events == [], f"code ran while checking model output: {events[:5]}"


BIG = huge_solution()
MANY_STEPS = many_step_solution()


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKERS)
def test_a_ten_megabyte_and_a_ten_thousand_step_solution_through_every_checker(name):
    checker = verikit.answer_checker(name)
    for text in (BIG, MANY_STEPS):
        measured = measure_call(lambda: checker.equivalent(checker.extract(text), "42"))
        peak, seconds = measured["peak_bytes"], measured["seconds"]
        assert measured["error"] is None, measured["error"]
        assert seconds < LIMIT_S, f"{name}: {seconds:.2f} s on a {len(text):,}-char solution"
        assert peak < 2 * len(text) + 20_000_000, f"{name}: {peak / 1e6:.0f} MB for a {len(text) / 1e6:.0f} MB solution"


@pytest.mark.slow
@pytest.mark.parametrize("name", SPLITTERS)
def test_a_ten_megabyte_and_a_ten_thousand_step_solution_through_every_splitter(name):
    splitter = verikit.step_splitter(name)
    for text in (BIG, MANY_STEPS):
        measured = measure_call(lambda: splitter.join(splitter.split(text)))
        peak, seconds = measured["peak_bytes"], measured["seconds"]
        assert measured["error"] is None, measured["error"]
        assert seconds < 5 * LIMIT_S, f"{name}: {seconds:.2f} s"
        # the steps and the rejoined text are copies of the input: a few times its size, never more
        assert peak < 6 * len(text) + 20_000_000, f"{name}: {peak / 1e6:.0f} MB for a {len(text) / 1e6:.0f} MB solution"


def test_a_solution_longer_than_the_reward_model_can_read_is_refused_by_name(tmp_path):
    from verikit.components import load_scorer
    from verikit.tiny_models import build_tiny_causal_lm

    model = build_tiny_causal_lm(tmp_path / "tiny", ["Step 1: 1 + 1 = 2"] * 20, vocab_size=300)
    scorer = load_scorer(model, released_convention=True)
    steps = [f"Step {k}: {k} + 1 = {k + 1}" for k in range(1, 10_001)]
    with pytest.raises(DataError, match=r"more than the model's 2048 positions") as error:
        scorer.score(["What is 1 + 10000?"], [steps])
    assert error.value.field == "steps" and error.value.line == 1
