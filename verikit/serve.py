"""``verikit serve``: an OpenAI-compatible ``/v1/completions`` endpoint and a ``/v1/score`` PRM endpoint.

So that RL frameworks and annotation workers elsewhere can use a verikit model or PRM over HTTP.
FastAPI + uvicorn (extra ``verikit[serve]``). Built to stay up in front of clients that are careless or
hostile (``python -m benchmarks.serve_attacks`` replays the attacks):

* every value is validated (422 with the field's name): finite numbers, a temperature of 0 (greedy) or
  at least ``MIN_TEMPERATURE``, 64-bit seeds, text that is valid Unicode, at most ``max_stop`` stop
  strings of at most ``max_stop_chars`` characters;
* work is bounded per request (prompts x n x max_tokens <= ``max_request_tokens``) and per queue
  (``max_queued_tokens`` waiting; beyond it, or beyond ``max_queue`` requests, 503 at once); a prompt is
  measured in the model's tokens against its context window before anything runs;
* the body is read with a size limit and a deadline, request headers must arrive within
  ``header_timeout`` (:mod:`verikit.serve_guard`);
* a client that disconnects has its work cancelled between decoding steps (queued work never starts),
  and SIGTERM cancels the work in flight, so the server stops within seconds;
* ``--api-key`` (or ``$VERIKIT_API_KEY``) requires ``Authorization: Bearer <key>``; binding to an address
  beyond loopback without one is refused.

The model serves one request at a time in a worker thread, so the event loop keeps answering ``/health``
and refusals while it works.
"""


import asyncio
import ipaddress
import os
import threading
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from verikit.errors import Cancelled, VerikitError
from verikit.interfaces import Completions

#: Sampling temperatures between 0 and this are refused: dividing logits by 1e-300 overflows to inf/NaN.
MIN_TEMPERATURE = 1e-3
MAX_SEED = 2**63 - 1
API_KEY_ENV = "VERIKIT_API_KEY"


class ServeLimits(BaseModel):
    """What one request and the whole queue may ask of the server; every limit is checked before any work."""

    model_config = ConfigDict(extra="forbid")

    max_prompt_chars: int = Field(default=32_000, ge=1, description="Longest prompt (or scored solution) in characters; "
                                  "checked before tokenizing, then tokens against the model's positions.")
    max_n: int = Field(default=64, ge=1, description="Largest n per request.")
    max_tokens: int = Field(default=1024, ge=1, description="Largest max_tokens per request.")
    max_steps: int = Field(default=512, ge=1, description="Most steps in one scored solution.")
    max_batch: int = Field(default=64, ge=1, description="Prompts (or solutions to score) in one request.")
    max_queue: int = Field(default=64, ge=0, description="Requests that may wait for the model; one more gets 503.")
    max_request_tokens: int = Field(default=262_144, ge=1, description="Largest prompts x n x max_tokens of one request.")
    max_queued_tokens: int = Field(default=1_048_576, ge=1, description="Largest prompts x n x max_tokens waiting in the queue.")
    max_stop: int = Field(default=4, ge=0, description="Stop strings per request (OpenAI's limit).")
    max_stop_chars: int = Field(default=64, ge=1, description="Characters per stop string.")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1, description="Largest request body.")
    body_timeout: float = Field(default=30.0, gt=0, description="Seconds to receive a whole request body (then 408).")
    header_timeout: float = Field(default=10.0, gt=0, description="Seconds to receive a request's headers.")
    max_connections: int = Field(default=256, ge=1, description="Open connections; beyond them uvicorn answers 503.")


def _valid_unicode(value):
    """Strings must be encodable text: a lone surrogate (``"\\ud800"`` in JSON) would fail in the tokenizer."""
    for text in [value] if isinstance(value, str) else (value or []):
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text must be valid Unicode (it holds a lone surrogate)") from None
    return value


class CompletionRequest(BaseModel):
    """The subset of OpenAI's completions request that verikit honours (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str | None = None
    prompt: str | list[str]
    n: int = Field(default=1, ge=1)
    temperature: float = Field(default=1.0, ge=0.0, le=100.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(default=16, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    include_stop_str_in_output: bool = False
    user: str | None = None

    _unicode = field_validator("prompt", "stop", "model", "user")(_valid_unicode)

    @field_validator("temperature")
    @classmethod
    def _usable_temperature(cls, value: float) -> float:
        if 0 < value < MIN_TEMPERATURE:
            raise ValueError(f"temperature must be 0 (greedy) or at least {MIN_TEMPERATURE}")
        return value


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    steps: list[str] = Field(min_length=1)

    _unicode = field_validator("question", "steps")(_valid_unicode)


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ScoreItem] = Field(min_length=1)
    aggregation: str = "min"


class _Busy(Exception):
    pass


class _Gone(Exception):
    """The client left (or the server is stopping) before or while its work ran."""


class ModelGate:
    """One request at a time on the model; bounded waiting (requests and tokens); cancellable work.

    ``run`` waits for the model unless the client disconnects first, runs ``function(cancel)`` in a worker
    thread, and sets ``cancel`` (a ``threading.Event``) when the client disconnects or the server stops; the
    model is released only when the thread has returned, so cancelled work never overlaps the next request.
    """

    def __init__(self, max_queue: int, max_queued_tokens: int):
        self.lock = asyncio.Lock()
        self.max_queue, self.max_queued_tokens = max_queue, max_queued_tokens
        self.waiting = 0
        self.queued_tokens = 0
        self.stopping = threading.Event()  # set on SIGTERM: cancel what runs, start nothing new

    async def run(self, function, *, work: int = 0, disconnected: asyncio.Event | None = None):
        if self.stopping.is_set():
            raise _Gone("server shutting down")
        if self.lock.locked() and (self.waiting >= self.max_queue or self.queued_tokens + work > self.max_queued_tokens):
            raise _Busy()
        disconnected = disconnected or asyncio.Event()
        self.waiting += 1
        self.queued_tokens += work
        try:
            await self._acquire_unless(disconnected)
        finally:
            self.waiting -= 1
            self.queued_tokens -= work
        cancel = threading.Event()
        job = asyncio.ensure_future(asyncio.to_thread(function, cancel))
        try:
            if not await self._done_unless_abandoned(job, disconnected):
                cancel.set()  # the thread stops at its next decoding step; the model is released after it
                await asyncio.wait({job})
            try:
                return job.result()
            except Cancelled:
                raise _Gone("server shutting down" if self.stopping.is_set() else "client disconnected") from None
        finally:
            cancel.set()  # also when this coroutine itself is cancelled: the thread stops at its next step
            self.lock.release()

    async def _done_unless_abandoned(self, future, disconnected: asyncio.Event) -> bool:
        """Wait for ``future``: ``True`` once it is done, ``False`` as soon as the client left or the server stops."""
        while True:
            done, _ = await asyncio.wait({future}, timeout=0.05)
            if done:
                return True
            if disconnected.is_set() or self.stopping.is_set():
                return False

    async def _acquire_unless(self, disconnected: asyncio.Event) -> None:
        acquire = asyncio.ensure_future(self.lock.acquire())
        if await self._done_unless_abandoned(acquire, disconnected):
            return
        acquire.cancel()
        await asyncio.gather(acquire, return_exceptions=True)
        if not acquire.cancelled() and acquire.exception() is None:
            self.lock.release()  # granted in the same instant it was given up
        raise _Gone("client disconnected while queued")


def create_app(completer=None, scorer=None, model_name: str = "verikit", limits: ServeLimits | None = None,
               api_key: str | None = None):
    """The ASGI application around a loaded completer (``/v1/completions``) and/or PRM scorer (``/v1/score``).

    ``app.state.gate.stopping.set()`` cancels the work in flight (what ``serve`` does on SIGTERM).
    """
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from verikit.serve_guard import RequestGuard

    limits = limits or ServeLimits()
    app = FastAPI(title="verikit serve", version="0.1")
    gate = ModelGate(limits.max_queue, limits.max_queued_tokens)
    app.state.gate = gate

    @app.exception_handler(_Busy)
    async def busy(request, exc):
        return JSONResponse(status_code=503, content={"error": {"message": "server busy: request queue is full; retry later",
                                                                "type": "overloaded"}})

    @app.exception_handler(_Gone)
    async def gone(request, exc):  # 499 (nginx's "client closed request") when nobody is left to read it
        status = 503 if "shutting down" in str(exc) else 499
        return JSONResponse(status_code=status, content={"error": {"message": str(exc), "type": "cancelled"}})

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):  # FastAPI's default, with the offending values left out (they may be huge)
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": errors})

    def refuse(status: int, message: str):
        raise HTTPException(status_code=status, detail={"message": message, "type": "invalid_request_error"})

    def disconnected(request: Request) -> asyncio.Event | None:
        return request.scope.get("verikit.disconnected")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": model_name if completer else None, "prm": getattr(scorer, "name", None) if scorer else None,
                "queue": gate.waiting, "queued_tokens": gate.queued_tokens, "busy": gate.lock.locked()}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "verikit"}]}

    @app.post("/v1/completions")
    async def completions(body: CompletionRequest, request: Request) -> dict[str, Any]:
        if completer is None:
            refuse(404, "this server has no completion model (start it with --model)")
        prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
        if not prompts or len(prompts) > limits.max_batch:
            refuse(422, f"prompt must hold 1 to {limits.max_batch} prompts, got {len(prompts)}")
        longest = max(len(p) for p in prompts)
        if longest > limits.max_prompt_chars:
            refuse(413, f"a prompt has {longest} characters; this server accepts at most {limits.max_prompt_chars}")
        if body.n > limits.max_n:
            refuse(422, f"n={body.n} exceeds this server's limit of {limits.max_n}")
        if body.max_tokens > limits.max_tokens:
            refuse(422, f"max_tokens={body.max_tokens} exceeds this server's limit of {limits.max_tokens}")
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        if len(stop) > limits.max_stop or any(len(s) > limits.max_stop_chars for s in stop):
            refuse(422, f"stop takes at most {limits.max_stop} strings of at most {limits.max_stop_chars} characters each")
        work = len(prompts) * body.n * body.max_tokens
        if work > limits.max_request_tokens:
            refuse(422, f"prompts x n x max_tokens = {len(prompts)} x {body.n} x {body.max_tokens} = {work} tokens; "
                        f"this server accepts at most {limits.max_request_tokens} per request (split it)")
        window = completer.context_window()
        if window is not None:
            lengths = await asyncio.to_thread(completer.count_tokens, prompts)
            for index, length in enumerate(lengths or []):
                if length + body.max_tokens > window:
                    refuse(413, f"prompt {index} has {length} tokens; with max_tokens={body.max_tokens} that exceeds "
                                f"the model's {window} positions")

        def generate(cancel):
            texts = Completions.of(completer.complete(prompts, n=body.n, temperature=body.temperature, top_p=body.top_p,
                                                      max_new_tokens=body.max_tokens, stop=stop, seed=body.seed or 0,
                                                      cancel=cancel))
            counts = texts.token_counts or [[len(t) for t in sample] for sample in texts]  # characters if uncounted
            return texts, counts

        texts, counts = await gate.run(generate, work=work, disconnected=disconnected(request))
        choices = []
        for p_index, (sample, sample_counts) in enumerate(zip(texts, counts)):
            for j, (text, used) in enumerate(zip(sample, sample_counts)):
                matched = next((s for s in stop if text.endswith(s)), None)  # the completer cut right after it
                if matched and not body.include_stop_str_in_output:
                    text = text[: -len(matched)]
                finish = "stop" if matched or used < body.max_tokens else "length"
                choices.append({"index": p_index * body.n + j, "text": text, "finish_reason": finish,
                                "stop_reason": matched, "logprobs": None})
        completion_tokens = sum(map(sum, counts))
        return {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion", "created": int(time.time()),
                "model": model_name, "choices": choices,
                "usage": {"completion_tokens": completion_tokens, "prompt_tokens": None, "total_tokens": None}}

    @app.post("/v1/score")
    async def score(body: ScoreRequest, request: Request) -> dict[str, Any]:
        from verikit.metrics import AGGREGATIONS, aggregate

        if scorer is None:
            refuse(404, "this server has no reward model (start it with --prm)")
        if body.aggregation not in AGGREGATIONS:
            refuse(422, f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {body.aggregation!r}")
        if len(body.items) > limits.max_batch:
            refuse(422, f"at most {limits.max_batch} items per request, got {len(body.items)}")
        for index, item in enumerate(body.items):
            if len(item.steps) > limits.max_steps:
                refuse(422, f"items[{index}] has {len(item.steps)} steps; this server accepts at most {limits.max_steps}")
            size = len(item.question) + sum(len(s) for s in item.steps)
            if size > limits.max_prompt_chars:
                refuse(413, f"items[{index}] has {size} characters; this server accepts at most {limits.max_prompt_chars}")

        def run(cancel):
            if cancel.is_set():
                raise Cancelled("scoring was cancelled before it started")
            return scorer.score([i.question for i in body.items], [i.steps for i in body.items])

        try:
            step_scores = await gate.run(run, disconnected=disconnected(request))
        except ValueError as exc:  # DataError: a step holding the tag, a solution longer than the model reads
            refuse(422, str(exc))
        return {"object": "list", "aggregation": body.aggregation,
                "data": [{"index": i, "step_scores": s, "score": aggregate(s, body.aggregation)}
                         for i, s in enumerate(step_scores)]}

    return RequestGuard(app, max_body_bytes=limits.max_body_bytes, body_timeout=limits.body_timeout, api_key=api_key)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_config(app, host: str, port: int, limits: ServeLimits):
    """A ``uvicorn.Config`` with verikit's connection limits (header deadline, connection cap, keep-alive)."""
    import uvicorn

    from verikit.serve_guard import GuardedH11Protocol

    protocol = type("VerikitH11Protocol", (GuardedH11Protocol,), {"header_timeout": limits.header_timeout})
    return uvicorn.Config(app, host=host, port=port, log_level="warning", http=protocol, loop="asyncio",
                          limit_concurrency=limits.max_connections, timeout_keep_alive=5, timeout_graceful_shutdown=3)


def stoppable_server(config, gate: ModelGate):
    """A ``uvicorn.Server`` whose SIGTERM/SIGINT first cancels the model's work, so it exits within seconds."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            gate.stopping.set()
            super().handle_exit(sig, frame)

    return Server(config)


def serve(model: str | None, prm: str | None, host: str = "127.0.0.1", port: int = 8000, device: str = "auto",
          limits: ServeLimits | None = None, batch_size: int = 64, api_key: str | None = None,
          released_convention: bool = False) -> None:
    """Load the models and serve until interrupted (SIGTERM/SIGINT cancel the work in flight)."""
    from verikit import components
    from verikit.components import load_scorer

    if model is None and prm is None:
        raise VerikitError("give --model (completions), --prm (step scores) or both")
    api_key = api_key or os.environ.get(API_KEY_ENV) or None
    if api_key is None and not is_loopback(host):
        raise VerikitError(f"serving on {host} (beyond loopback) needs an API key: --api-key KEY or ${API_KEY_ENV}; "
                           "clients send it as 'Authorization: Bearer KEY'")
    limits = limits or ServeLimits()
    completer = components.completer("transformers", model=model, device=device, batch_size=batch_size) if model else None
    scorer = load_scorer(prm, device=None if device == "auto" else device,
                         released_convention=released_convention) if prm else None
    app = create_app(completer, scorer, model_name=model or "none", limits=limits, api_key=api_key)
    server = stoppable_server(server_config(app, host, port, limits), app.app.state.gate)
    server.run()


class BackgroundServer:
    """Run an app with uvicorn on 127.0.0.1 in a thread (tests, benchmarks, notebooks): ``with … as url:``."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, limits: ServeLimits | None = None):
        import socket

        if port == 0:  # a free port, chosen now so that the URL is known before the server starts
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.app, self.host, self.port, self.limits = app, host, port, limits or ServeLimits()
        self.url = f"http://{host}:{port}"

    def __enter__(self) -> str:
        import threading

        import uvicorn

        self.server = uvicorn.Server(server_config(self.app, self.host, self.port, self.limits))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc) -> None:
        self.app.app.state.gate.stopping.set()
        self.server.should_exit = True
        self.thread.join(timeout=10)
