"""Probe every registered answer checker and step splitter with hostile input, and say what happened.

Used by the reliability tests and ``benchmarks/robustness``. Each call is timed; an exception is recorded
with the input that raised it (never re-raised mid-run, so one report shows every failure); a call that
runs past ``hang_s`` is interrupted by an interval timer (on the main thread of a POSIX process) and
recorded as a hang, so a broken checker cannot stall the run.
"""

from __future__ import annotations

import signal
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from verikit.interfaces import AnswerChecker, StepSplitter


class _Hang(BaseException):
    """Raised inside a call that ran past its limit (a BaseException, so a checker's ``except Exception`` cannot hide
    it)."""


@contextmanager
def _interrupt_after(seconds: float):
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class ProbeReport:
    """What one component did with the inputs it was given."""

    component: str
    inputs: int = 0
    exceptions: int = 0
    hangs: int = 0
    max_seconds: float = 0.0
    slowest_input: str = ""
    failures: list[dict] = field(default_factory=list)  # the first few: {"input", "error"}

    def record(self, text: str, seconds: float, error: str | None) -> None:
        self.inputs += 1
        if seconds > self.max_seconds:
            self.max_seconds, self.slowest_input = seconds, _preview(text)
        if error is not None:
            if error.startswith("hang"):
                self.hangs += 1
            else:
                self.exceptions += 1
            if len(self.failures) < 10:
                self.failures.append({"input": _preview(text), "error": error})

    def as_dict(self) -> dict:
        return asdict(self)


def _preview(text: str, width: int = 80) -> str:
    return repr(text[:width]) + (f"… ({len(text):,} chars)" if len(text) > width else "")


def _timed(report: ProbeReport, text: str, call: Callable[[], object], hang_s: float) -> None:
    started = time.perf_counter()
    error = None
    try:
        with _interrupt_after(hang_s):
            call()
    except _Hang:
        error = f"hang: still running after {hang_s:g} s"
    except Exception as exc:  # the point is to record it, with the input that caused it
        error = f"{type(exc).__name__}: {exc}"[:300]
    report.record(text, time.perf_counter() - started, error)


def _checker_call(checker: AnswerChecker, text: str, gold: str) -> None:
    extracted = checker.extract(text)
    if extracted is not None and not isinstance(extracted, str):
        raise TypeError(f"extract returned {type(extracted).__name__}, not str or None")
    for verdict in (checker.equivalent(extracted, gold), checker.equivalent(text, gold)):
        if not isinstance(verdict, bool):
            raise TypeError(f"equivalent returned {type(verdict).__name__}, not bool")
    checker.normalize(extracted)


def probe_checker(name: str, checker: AnswerChecker, strings: Iterable[str], hang_s: float = 10.0) -> ProbeReport:
    """``extract``, ``equivalent`` (both ways round) and ``normalize`` on every string, against a rotating gold."""
    strings = list(strings)
    report = ProbeReport(component=name)
    if hasattr(checker, "prepare"):
        checker.prepare()  # a one-time helper start-up is not a checker call
    for index, text in enumerate(strings):
        gold = strings[(index * 7919) % len(strings)]
        _timed(report, text, lambda: _checker_call(checker, text, gold), hang_s)
    return report


def _splitter_call(splitter: StepSplitter, text: str) -> None:
    steps = splitter.split(text)
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise TypeError("split did not return a list of strings")
    rejoined = splitter.join(steps)
    if splitter.split(rejoined) != steps:
        raise AssertionError("split(join(split(text))) differs from split(text)")


def probe_splitter(name: str, splitter: StepSplitter, strings: Iterable[str], hang_s: float = 10.0) -> ProbeReport:
    """``split`` every string, ``join`` the steps and check that splitting again gives the same steps."""
    report = ProbeReport(component=name)
    for text in strings:
        _timed(report, text, lambda: _splitter_call(splitter, text), hang_s)
    return report


def measure_call(call: Callable[[], object]) -> dict:
    """``{seconds, peak_bytes, error}`` of one call: wall time, peak memory it allocated (tracemalloc), and the
    exception it raised as text (recorded, not raised, so a report can list every component)."""
    tracemalloc.start()
    started = time.perf_counter()
    error = None
    try:
        call()
    except Exception as exc:  # the point is to record it
        error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"seconds": seconds, "peak_bytes": peak, "error": error}
