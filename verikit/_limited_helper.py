"""The helper process behind :class:`verikit.timeouts.TimeLimitedRunner` (``python -m verikit._limited_helper``).

Protocol on stdin/stdout: length-prefixed pickles. It first imports the modules named on its command
line (calling ``module:function`` entries once, to warm lazy caches every child then inherits) and answers ``"ready"``;
then, for each ``(target, args, kwargs, timeout)`` request, it forks a child
that runs the target under an address-space limit (and, if asked, a limit on its own CPU time, which a busy
machine does not shorten), waits at most ``timeout`` wall-clock seconds for the child's answer, kills it if
it overruns, and replies ``("ok", value, cpu)``, ``("error", message, cpu)``, ``("cpu_timeout", limit, cpu)``
or ``("timeout", seconds, cpu)`` — ``cpu`` being the child's CPU seconds. The helper is single-threaded, so forking it
is safe.
"""

from __future__ import annotations

import importlib
import os
import resource
import signal
import sys
import time

from verikit.timeouts import receive_message, send_message


def _resolve(target: str):
    module_name, _, attribute = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def _run_child(write_fd: int, target: str, args, kwargs, memory_limit_mb: int, cpu_limit: float | None) -> None:
    try:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if cpu_limit:  # SIGPROF (default action: terminate) after this much CPU time of the child's own
            signal.setitimer(signal.ITIMER_PROF, cpu_limit)
        reply = ("ok", _resolve(target)(*args, **kwargs))
    except BaseException as exc:
        reply = ("error", f"{type(exc).__name__}: {exc}")
    try:
        send_message(write_fd, reply)
    except Exception as exc:  # e.g. an unpicklable result
        send_message(write_fd, ("error", f"cannot send result: {exc!r}"))


def _serve(memory_limit_mb: int) -> None:
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    while True:
        try:
            request = receive_message(stdin)
        except EOFError:
            return
        target, args, kwargs, timeout = request[:4]
        cpu_limit = request[4] if len(request) > 4 else None
        read_fd, write_fd = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_fd)
            _run_child(write_fd, target, args, kwargs, memory_limit_mb, cpu_limit)
            os._exit(0)
        os.close(write_fd)
        status = None
        try:
            reply = receive_message(read_fd, started + timeout)
        except EOFError:
            if time.monotonic() < started + timeout:  # the pipe closed early: the child is gone (or going)
                status = os.wait4(pid, 0)
                killed_by = os.WTERMSIG(status[1]) if os.WIFSIGNALED(status[1]) else None
                reply = (
                    ("cpu_timeout", cpu_limit) if killed_by == signal.SIGPROF else ("error", "the call's process died")
                )
            else:
                reply = ("timeout", time.monotonic() - started)
        except Exception as exc:
            reply = ("error", f"unreadable reply: {exc!r}")
        finally:
            os.close(read_fd)
            if status is None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    status = os.wait4(pid, 0)
                except ChildProcessError:  # already reaped
                    pass
        usage = status[2] if status is not None else None
        cpu = (usage.ru_utime + usage.ru_stime) if usage is not None else None
        send_message(stdout, (*reply, cpu))


def main(argv: list[str]) -> None:
    memory_limit_mb = int(argv[0])
    try:
        for name in argv[1:]:  # "module" is imported; "module:function" is also called once (warm-up)
            if ":" in name:
                _resolve(name)()
            else:
                importlib.import_module(name)
    except Exception as exc:
        send_message(sys.stdout.fileno(), f"preload failed: {exc!r}")
        return
    send_message(sys.stdout.fileno(), "ready")
    _serve(memory_limit_mb)


if __name__ == "__main__":
    main(sys.argv[1:])
