"""`verikit serve` under careless and hostile clients (loopback only, bounded in count and time).

Each test reproduces one way the server used to be knocked over: unbounded stop strings and total work,
prompts measured in characters instead of the model's context, 500s on odd values, a body read whole
before its size was checked, connections held open by trickling headers, work that went on after its
client left, a SIGTERM that waited for all of it, and no authentication.
"""

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

import verikit
from verikit.errors import Cancelled, VerikitError
from verikit.serve import ServeLimits, create_app, serve
from verikit.serve_harness import BackgroundServer


class SlowCompleter(verikit.Completer):
    """Holds the model until released or cancelled; counts the calls that started."""

    name = "slow"

    def __init__(self):
        self.release, self.started, self.cancelled = threading.Event(), [], []

    def complete(self, prompts, n=1, cancel=None, **kwargs):
        self.started.append(prompts[0])
        while not self.release.wait(0.01):
            if cancel is not None and cancel.is_set():
                self.cancelled.append(prompts[0])
                raise Cancelled("stopped")
        return verikit.Completions([["done"]], [[1]])


def wait_for_queue(url: str, waiting: int) -> None:
    """Until the model is busy and ``waiting`` requests wait for it (at most 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        health = httpx.get(url + "/health").json()
        if health["busy"] and health["queue"] == waiting:
            return
        assert time.monotonic() < deadline, health
        time.sleep(0.02)


def test_a_full_queue_is_refused_at_once_with_503():
    slow = SlowCompleter()
    with BackgroundServer(create_app(slow, None, limits=ServeLimits(max_queue=1))) as url:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            # one at a time: sent together, both could reach the queue before the model takes the first, and the
            # second would be refused (it was, once, on a loaded machine)
            first = [pool.submit(httpx.post, url + "/v1/completions", json={"prompt": "x"}, timeout=20)]
            wait_for_queue(url, 0)
            first.append(pool.submit(httpx.post, url + "/v1/completions", json={"prompt": "x"}, timeout=20))
            wait_for_queue(url, 1)  # one request at the model, one waiting: the queue is full
            refused = httpx.post(url + "/v1/completions", json={"prompt": "x"}, timeout=5)
            slow.release.set()
            assert refused.status_code == 503 and "queue is full" in refused.text
            assert [f.result().status_code for f in first] == [200, 200]


def test_queued_work_is_bounded_in_tokens_too():
    slow = SlowCompleter()
    limits = ServeLimits(max_queue=10, max_request_tokens=1000, max_queued_tokens=1500)
    with BackgroundServer(create_app(slow, None, limits=limits)) as url:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            body = {"prompt": "x", "max_tokens": 1000}
            running = pool.submit(httpx.post, url + "/v1/completions", json=body, timeout=20)
            wait_for_queue(url, 0)
            queued = pool.submit(httpx.post, url + "/v1/completions", json=body, timeout=20)
            wait_for_queue(url, 1)  # 1,000 tokens wait; 1,000 more would pass the queue's 1,500
            refused = httpx.post(url + "/v1/completions", json=body, timeout=5)
            slow.release.set()
            assert refused.status_code == 503
            assert running.result().status_code == queued.result().status_code == 200


@pytest.fixture(scope="module")
def tiny(tiny_lm):
    return tiny_lm


@pytest.fixture(scope="module")
def server(tiny):
    limits = ServeLimits(max_request_tokens=4096, max_body_bytes=100_000, header_timeout=1.0, body_timeout=1.0)
    app = create_app(
        verikit.completer("transformers", model=tiny, device="cpu"), None, model_name="tiny", limits=limits
    )
    with BackgroundServer(app, limits=limits) as url:
        yield url


def post_raw(url: str, body: str, path: str = "/v1/completions", **kwargs) -> httpx.Response:
    """A body exactly as written (NaN and lone surrogates are not JSON httpx would produce)."""
    return httpx.post(
        url + path, content=body.encode(), headers={"content-type": "application/json"}, timeout=30, **kwargs
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"prompt": "x", "temperature": NaN}', "temperature"),
        ('{"prompt": "x", "temperature": 1e-300}', "temperature"),
        ('{"prompt": "x", "top_p": NaN}', "top_p"),
        ('{"prompt": "x", "seed": 18446744073709551616}', "seed"),
        ('{"prompt": "\\ud800"}', "prompt"),
        ('{"prompt": ["fine", "\\udfff"]}', "prompt"),
        ('{"prompt": "x", "stop": "\\ud800"}', "stop"),
        ('{"items": [{"question": "\\ud800", "steps": ["a"]}]}', "question"),
    ],
)
def test_every_invalid_value_is_a_422_naming_its_field(server, body, field):
    path = "/v1/score" if "items" in body else "/v1/completions"
    response = post_raw(server, body, path)
    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json())


def test_a_huge_seed_that_fits_64_bits_samples_normally(server):
    response = httpx.post(
        server + "/v1/completions", json={"prompt": "x", "max_tokens": 2, "seed": 2**63 - 1}, timeout=30
    )
    assert response.status_code == 200


@pytest.mark.parametrize("stop", [["\n"] * 5, ["x" * 65], "y" * 2_000_000])
def test_stop_strings_are_bounded_in_count_and_length(server, stop):
    response = httpx.post(server + "/v1/completions", json={"prompt": "x", "stop": stop}, timeout=30)
    assert response.status_code in (413, 422)  # the 2 MB one is over the body limit before it is parsed


def test_total_work_per_request_is_bounded(server):
    body = {"prompt": ["x"] * 64, "n": 64, "max_tokens": 1024}  # each field within its own limit
    response = httpx.post(server + "/v1/completions", json=body, timeout=30)
    assert response.status_code == 422 and "64 x 64 x 1024" in response.text


def test_prompt_length_is_checked_in_tokens_against_the_models_positions(server):
    prompt = " ".join(str(i) for i in range(5000))  # under max_prompt_chars, far over 2,048 positions in tokens
    started = time.monotonic()
    response = httpx.post(server + "/v1/completions", json={"prompt": prompt, "max_tokens": 8}, timeout=30)
    assert response.status_code == 413 and "2048 positions" in response.text
    assert time.monotonic() - started < 2


def test_an_oversized_body_is_refused_from_its_header_or_while_it_streams(server):
    declared = httpx.post(server + "/v1/completions", content=b"x" * 200_000, timeout=30)
    assert declared.status_code == 413

    def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(1000):
            yield b"x" * 10_000

    try:
        streamed = httpx.post(server + "/v1/completions", content=chunks(), timeout=30)
        assert streamed.status_code == 413
    except httpx.TransportError:
        pass  # the server answered 413 and closed while the client was still sending: also a refusal
    assert httpx.get(server + "/health").status_code == 200


def test_slow_loris_connections_are_closed(server):
    host, port = server.removeprefix("http://").split(":")
    connections = []
    for _ in range(5):
        s = socket.create_connection((host, int(port)))
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        connections.append(s)
    started = time.monotonic()
    for s in connections:
        s.settimeout(5)
        assert s.recv(1024) == b""  # closed by the server
        s.close()
    assert time.monotonic() - started < 3  # header_timeout is 1 s here


def test_a_body_trickled_in_gets_408(server):
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(
            b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
            b"100\r\n\r\n{"
        )
        s.settimeout(5)
        assert b" 408 " in s.recv(1024)


def test_a_disconnected_clients_work_is_cancelled_and_its_queued_request_never_runs():
    slow = SlowCompleter()
    with BackgroundServer(create_app(slow, None)) as url:

        def post(prompt, timeout):
            try:
                return httpx.post(url + "/v1/completions", json={"prompt": prompt}, timeout=timeout).status_code
            except httpx.TimeoutException:
                return "gave up"

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            staying = pool.submit(post, "staying", 30)
            wait_for_queue(url, 0)
            assert post("queued, then gone", 0.5) == "gave up"
            time.sleep(0.3)
            slow.release.set()
            assert staying.result() == 200
        assert slow.started == ["staying"]  # the queued request of the client that left never ran

        slow.release.clear()
        assert post("running, then gone", 0.5) == "gave up"
        left = time.monotonic()
        while httpx.get(url + "/health").json()["busy"]:
            assert time.monotonic() - left < 2
            time.sleep(0.02)
        assert slow.cancelled == ["running, then gone"]


@pytest.mark.slow
def test_a_real_model_is_free_within_two_seconds_of_its_client_leaving(tiny):
    limits = ServeLimits(max_request_tokens=64 * 64 * 1024)
    app = create_app(verikit.completer("transformers", model=tiny, device="cpu"), None, limits=limits)
    with BackgroundServer(app, limits=limits) as url:
        with pytest.raises(httpx.TimeoutException):  # minutes of decoding: the client gives up at 1 s
            httpx.post(url + "/v1/completions", json={"prompt": ["x"] * 64, "n": 64, "max_tokens": 1024}, timeout=1)
        left = time.monotonic()
        response = httpx.post(url + "/v1/completions", json={"prompt": "x", "max_tokens": 4}, timeout=30)
        assert response.status_code == 200
        assert time.monotonic() - left < 2


def test_an_api_key_is_required_when_set_and_health_stays_open():
    slow = SlowCompleter()
    slow.release.set()
    with BackgroundServer(create_app(slow, None, api_key="s3cret")) as url:
        assert httpx.post(url + "/v1/completions", json={"prompt": "x"}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.post(url + "/v1/completions", json={"prompt": "x"}, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert httpx.post(url + "/v1/completions", json={"prompt": "x"}, headers=right).status_code == 200
        assert httpx.get(url + "/health").status_code == 200


def test_binding_beyond_loopback_without_a_key_is_refused(monkeypatch):
    monkeypatch.delenv("VERIKIT_API_KEY", raising=False)
    with pytest.raises(VerikitError, match="needs an API key"):
        serve("unused", None, host="0.0.0.0")


@pytest.mark.slow
def test_sigterm_stops_the_server_within_five_seconds_mid_request(tiny, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "verikit.cli",
        "serve",
        "--model",
        tiny,
        "--port",
        str(port),
        "--device",
        "cpu",
        "--max-request-tokens",
        str(64 * 64 * 1024),
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]
                time.sleep(0.2)
        worker = threading.Thread(
            target=lambda: _ignore_errors(
                lambda: httpx.post(
                    url + "/v1/completions", json={"prompt": ["x"] * 64, "n": 64, "max_tokens": 1024}, timeout=60
                )
            )
        )
        worker.start()
        while not httpx.get(url + "/health", timeout=5).json()["busy"]:
            time.sleep(0.05)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - signalled < 5
        worker.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()


def _ignore_errors(call):
    try:
        call()
    except httpx.HTTPError:
        pass


@pytest.mark.slow
def test_the_attack_benchmark_runs_and_the_server_holds(tmp_path):
    from benchmarks.serve_attacks import main as run_benchmark

    result = run_benchmark(["--out", str(tmp_path / "attacks.json")])
    assert all(row["status"] in (413, 422) for row in result["attacks"]), result["attacks"]
    assert result["peak_over_idle_mb"] < 200
    assert result["disconnect"]["next_request_status"] == 200 and result["disconnect"]["free_after_s"] < 2
    assert result["sigterm"]["exit_after_s"] is not None and result["sigterm"]["exit_after_s"] < 5
    assert result["slow_loris"]["closed_by_server"] == result["slow_loris"]["connections"]
