"""Replays the attacks of issue 19 against ``verikit serve`` on 127.0.0.1 and prints what the server did.

For each attack: the HTTP status (or what happened to the connection), the latency, and the server's RSS
after it (and its peak over the run) against its RSS when idle; then how long after a client disconnects
the model is free for the next request, and how long SIGTERM takes to end the server mid-request. Every
loop is bounded in count and time; all traffic goes to loopback.

    python -m benchmarks.serve_attacks --out out/serve_attacks.json
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(model: str, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "verikit.cli", "serve", "--model", model, "--port", str(port), "--device", "cpu"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def rss_mb(proc) -> float:
    return psutil.Process(proc.pid).memory_info().rss / 2**20


def attacks(url: str) -> list[tuple[str, callable]]:
    post = lambda body, **kw: httpx.post(url + "/v1/completions", json=body, timeout=60, **kw)  # noqa: E731

    def raw(text):
        return httpx.post(
            url + "/v1/completions", content=text.encode(), headers={"content-type": "application/json"}, timeout=60
        )

    return [
        ("stop string of 2 MB", lambda: post({"prompt": "x", "stop": "y" * 2_000_000})),
        ("4 stop strings of 1 MB", lambda: post({"prompt": "x", "stop": ["y" * 1_000_000] * 4})),
        ("65 stop strings of 64 chars", lambda: post({"prompt": "x", "stop": ["z" * 64] * 65})),
        ("64 prompts x n=64 x 1,024 tokens", lambda: post({"prompt": ["x"] * 64, "n": 64, "max_tokens": 1024})),
        ("32,000-char prompt (2,048 positions)", lambda: post({"prompt": "1 " * 16_000, "max_tokens": 8})),
        ("64 such prompts", lambda: post({"prompt": ["1 " * 16_000] * 64, "max_tokens": 8})),
        ("temperature NaN", lambda: raw('{"prompt": "x", "temperature": NaN}')),
        ("temperature 1e-300", lambda: raw('{"prompt": "x", "temperature": 1e-300}')),
        ("top_p NaN", lambda: raw('{"prompt": "x", "top_p": NaN}')),
        ("seed 2^64", lambda: raw('{"prompt": "x", "seed": 18446744073709551616}')),
        ("lone surrogate", lambda: raw('{"prompt": "\\ud800"}')),
        ("200 MB body", lambda: httpx.post(url + "/v1/completions", content=b"x" * 200_000_000, timeout=60)),
    ]


def slow_loris(url: str, connections: int = 20) -> dict:
    host, port = url.removeprefix("http://").split(":")
    sockets = []
    for _ in range(connections):
        s = socket.create_connection((host, int(port)))
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
        sockets.append(s)
    started = time.monotonic()
    closed = 0
    for s in sockets:
        s.settimeout(max(0.1, 30 - (time.monotonic() - started)))
        try:
            closed += s.recv(1024) == b""
        except (TimeoutError, OSError):
            pass
        s.close()
    return {"connections": connections, "closed_by_server": closed, "seconds": round(time.monotonic() - started, 2)}


def disconnect_then_next(url: str) -> dict:
    try:
        httpx.post(url + "/v1/completions", json={"prompt": ["x"] * 16, "n": 16, "max_tokens": 1024}, timeout=1)
    except httpx.TimeoutException:
        pass
    left = time.monotonic()
    status = httpx.post(url + "/v1/completions", json={"prompt": "x", "max_tokens": 4}, timeout=60).status_code
    return {"next_request_status": status, "free_after_s": round(time.monotonic() - left, 2)}


def sigterm_mid_request(proc, url: str) -> dict:
    worker = threading.Thread(
        target=lambda: _quiet(
            lambda: httpx.post(
                url + "/v1/completions", json={"prompt": ["x"] * 16, "n": 16, "max_tokens": 1024}, timeout=60
            )
        )
    )
    worker.start()
    while not httpx.get(url + "/health", timeout=5).json()["busy"]:
        time.sleep(0.05)
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
        seconds = round(time.monotonic() - signalled, 2)
    except subprocess.TimeoutExpired:
        proc.kill()
        seconds = None
    worker.join(timeout=30)
    return {"exit_after_s": seconds, "exit_code": proc.returncode}


def _quiet(call):
    try:
        call()
    except httpx.HTTPError:
        pass


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/serve_attacks.json"))
    parser.add_argument("--model", help="model folder to serve (default: a tiny Mistral built here)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model
        if model is None:
            from verikit.tiny_models import build_tiny_causal_lm

            model = str(
                build_tiny_causal_lm(
                    Path(scratch) / "tiny", ["Step 1: 2 + 3 = 5\nThe answer is 5."] * 20, vocab_size=300
                )
            )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = start_server(model, port)
        try:
            httpx.post(url + "/v1/completions", json={"prompt": "x", "max_tokens": 4}, timeout=60)  # warm
            idle = rss_mb(proc)
            rows, peak = [], idle
            for name, attack in attacks(url):
                started = time.monotonic()
                try:
                    outcome = attack().status_code
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                seconds = time.monotonic() - started
                now = rss_mb(proc)
                peak = max(peak, now)
                rows.append(
                    {
                        "attack": name,
                        "status": outcome,
                        "seconds": round(seconds, 3),
                        "rss_mb": round(now, 1),
                        "rss_over_idle_mb": round(now - idle, 1),
                    }
                )
                print(f"{name:>38}  {outcome!s:>14}  {seconds:7.3f} s  RSS {now:7.1f} MB ({now - idle:+.1f})")
            loris = slow_loris(url)
            print(
                f"{'slow loris':>38}  {loris['closed_by_server']}/{loris['connections']} closed in {loris['seconds']} s"
            )
            disconnect = disconnect_then_next(url)
            print(
                f"{'client disconnects mid-request':>38}  next request {disconnect['next_request_status']} "
                f"{disconnect['free_after_s']} s after"
            )
            peak = max(peak, rss_mb(proc))
            term = sigterm_mid_request(proc, url)
            print(f"{'SIGTERM mid-request':>38}  exited after {term['exit_after_s']} s (code {term['exit_code']})")
        finally:
            if proc.poll() is None:
                proc.kill()
    result = {
        "idle_rss_mb": round(idle, 1),
        "peak_rss_mb": round(peak, 1),
        "peak_over_idle_mb": round(peak - idle, 1),
        "attacks": rows,
        "slow_loris": loris,
        "disconnect": disconnect,
        "sigterm": term,
    }
    print(f"idle RSS {idle:.1f} MB, peak {peak:.1f} MB (+{peak - idle:.1f} MB)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
