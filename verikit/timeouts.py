"""Run a function under a hard wall-clock (and memory, and optionally CPU-time) limit, safely off the main thread.

Why processes: symbolic algebra on model output (``2^{10^{10}}``, deeply nested fractions) can run for
hours inside C code while holding the GIL, and ``signal.alarm`` works only in the main thread. So a
helper process (``python -m verikit._limited_helper``, started once, with the heavy modules imported)
forks one short-lived child per call; the helper kills a child that overruns its limit and answers
"timeout". The fork is cheap (the imports are already done) and the helper itself never runs untrusted
work, so it survives every timeout. The caller also guards the helper: if it stops answering, it is
killed and restarted on the next call.

>>> runner = TimeLimitedRunner(preload=("math",))
>>> runner.call("math:factorial", 5, timeout=2.0)
120
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from typing import Any

from verikit.errors import CallTimeout

_HEADER = struct.Struct("!I")


def send_message(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj)
    payload = _HEADER.pack(len(data)) + data
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int, deadline: float | None) -> bytes | None:
    """``size`` bytes from ``fd``; ``None`` at end of file or when ``deadline`` (monotonic) passes."""
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        chunk = os.read(fd, remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive_message(fd: int, deadline: float | None = None) -> Any:
    header = read_exactly(fd, _HEADER.size, deadline)
    if header is None:
        raise EOFError
    body = read_exactly(fd, _HEADER.unpack(header)[0], deadline)
    if body is None:
        raise EOFError
    return pickle.loads(body)  # only ever our own helper's replies


class TimeLimitedRunner:
    """Runs ``"module:function"`` targets in forked children of a preloaded helper process.

    ``call`` returns the target's result, raises :class:`~verikit.errors.CallTimeout` past ``timeout``
    seconds, and raises ``RuntimeError`` (with the child's exception type and message) if the target
    raised. ``memory_limit_mb`` caps each child's address space. Thread-safe: calls are serialised.
    """

    def __init__(self, preload: tuple[str, ...] = (), start_timeout: float = 60.0, memory_limit_mb: int = 4096):
        self.preload = tuple(preload)
        self.start_timeout = start_timeout
        self.memory_limit_mb = memory_limit_mb
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.timeouts = 0  # wall-clock kills (these depend on the machine's load)
        self.cpu_timeouts = 0  # CPU-time stops (these do not)
        self.restarts = 0
        self.last_cpu_seconds: float | None = None

    def _ensure_started(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self._proc is not None:
            self.restarts += 1
        command = [sys.executable, "-m", "verikit._limited_helper", str(self.memory_limit_mb), *self.preload]
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            ready = receive_message(proc.stdout.fileno(), time.monotonic() + self.start_timeout)
        except EOFError:
            proc.kill()
            raise RuntimeError(
                f"time-limited helper did not start within {self.start_timeout:.0f}s ({command})"
            ) from None
        if ready != "ready":
            proc.kill()
            raise RuntimeError(f"time-limited helper failed to start: {ready}")
        self._proc = proc
        return proc

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=5)
            self._proc = None

    def call(self, target: str, *args: Any, timeout: float, cpu_time: float | None = None, **kwargs: Any) -> Any:
        """``target(*args, **kwargs)`` in a child killed after ``timeout`` wall-clock seconds or, with ``cpu_time``,
        after that many seconds of its own CPU time — a bound a loaded machine does not move, so the same call
        ends the same way on a busy machine as on a quiet one (while the wall limit still caps its duration).
        The child's CPU seconds are left in ``last_cpu_seconds``; a wall-clock kill raises :class:`CallTimeout`
        with ``wall_clock=True``."""
        with self._lock:
            proc = self._ensure_started()
            started = time.monotonic()
            self.last_cpu_seconds = None
            try:
                send_message(proc.stdin.fileno(), (target, args, kwargs, timeout, cpu_time))
                # The helper answers "timeout" itself; the grace period only covers a helper gone bad.
                status, value, self.last_cpu_seconds = receive_message(proc.stdout.fileno(), started + timeout + 5.0)
            except (EOFError, OSError):
                self._kill()
                raise CallTimeout(f"{target}: the time-limited helper stopped answering; it was restarted") from None
            if status == "cpu_timeout":
                self.cpu_timeouts += 1
                raise CallTimeout(f"{target} used its {cpu_time:.2f}s of CPU time and was stopped")
            if status == "timeout":
                self.timeouts += 1
                error = CallTimeout(f"{target} exceeded {timeout:.2f}s and was killed")
                error.wall_clock = True
                raise error
            if status == "error":
                raise RuntimeError(f"{target}: {value}")
            return value

    def close(self) -> None:
        with self._lock:
            self._kill()

    def __del__(self):  # pragma: no cover - best effort at interpreter exit
        try:
            self._kill()
        except Exception:
            pass
