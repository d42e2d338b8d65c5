import threading
import time

import pytest

from verikit.errors import CallTimeout
from verikit.timeouts import TimeLimitedRunner


@pytest.fixture(scope="module")
def runner():
    runner = TimeLimitedRunner(preload=("math",))
    yield runner
    runner.close()


def test_returns_the_result(runner):
    assert runner.call("math:factorial", 10, timeout=5) == 3628800


def test_a_call_over_its_limit_is_killed_and_the_runner_survives(runner):
    started = time.monotonic()
    with pytest.raises(CallTimeout, match="exceeded"):
        runner.call("time:sleep", 30, timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert runner.call("math:factorial", 3, timeout=5) == 6


def test_cpu_bound_c_code_is_stopped_too(runner):
    with pytest.raises(CallTimeout):
        runner.call("math:factorial", 10**7, timeout=0.3)  # C code holding the GIL: no signal could stop it


def test_an_exception_in_the_target_comes_back_with_its_type(runner):
    with pytest.raises(RuntimeError, match="ValueError"):
        runner.call("math:sqrt", -1, timeout=5)


def test_memory_blow_up_is_contained():
    runner = TimeLimitedRunner(memory_limit_mb=512)
    try:
        with pytest.raises(RuntimeError, match="MemoryError"):
            runner.call("builtins:bytearray", 2 * 1024**3, timeout=10)
        assert runner.call("builtins:len", "abc", timeout=5) == 3
    finally:
        runner.close()


def test_works_from_many_threads_at_once(runner):
    results = []

    def work(n):
        results.append(runner.call("math:factorial", n, timeout=5))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == sorted([1, 1, 2, 6, 24, 120, 720, 5040])


def test_a_cpu_time_limit_stops_cpu_bound_work_whatever_the_load(runner, busy_machine):
    """A CPU budget is the child's own CPU seconds: the same call ends the same way with the machine busy."""

    def stopped():
        started = time.monotonic()
        with pytest.raises(CallTimeout, match="CPU time") as caught:
            runner.call("math:factorial", 10**7, timeout=20, cpu_time=0.3)
        assert not getattr(caught.value, "wall_clock", False)
        return time.monotonic() - started

    quiet = stopped()
    with busy_machine():
        busy = stopped()
    assert runner.cpu_timeouts >= 2 and quiet < 5 and busy < 15
    assert runner.call("math:factorial", 5, timeout=5, cpu_time=0.3) == 120
    assert runner.last_cpu_seconds is not None and runner.last_cpu_seconds < 0.3


def test_sleeping_uses_no_cpu_so_the_wall_clock_still_bounds_it(runner):
    with pytest.raises(CallTimeout, match="exceeded") as caught:
        runner.call("time:sleep", 30, timeout=0.3, cpu_time=5.0)
    assert caught.value.wall_clock
