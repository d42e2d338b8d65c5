"""The helper process behind :class:`verikit.timeouts.TimeLimitedRunner` (``python -m verikit._limited_helper``).

Protocol on stdin/stdout: length-prefixed pickles. It first imports the modules named on its command
line (calling ``module:function`` entries once, to warm lazy caches every child then inherits) and answers ``"ready"``; then, for each ``(target, args, kwargs, timeout)`` request, it forks a child
that runs the target under an address-space limit, waits at most ``timeout`` seconds for the child's
answer, kills it if it overruns, and replies ``("ok", value)``, ``("error", message)`` or
``("timeout", seconds)``. The helper is single-threaded, so forking it is safe.
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


def _run_child(write_fd: int, target: str, args, kwargs, memory_limit_mb: int) -> None:
    try:
        limit = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
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
            target, args, kwargs, timeout = receive_message(stdin)
        except EOFError:
            return
        read_fd, write_fd = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_fd)
            _run_child(write_fd, target, args, kwargs, memory_limit_mb)
            os._exit(0)
        os.close(write_fd)
        try:
            reply = receive_message(read_fd, started + timeout)
        except EOFError:
            alive = os.waitpid(pid, os.WNOHANG)[0] == 0
            reply = ("timeout", time.monotonic() - started) if alive else ("error", "the call's process died")
        except Exception as exc:
            reply = ("error", f"unreadable reply: {exc!r}")
        finally:
            os.close(read_fd)
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):  # already gone and reaped
                pass
        send_message(stdout, reply)


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
