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
and refusals while it works. Request bodies and limits: :mod:`verikit.serve_schemas`; the gate:
:mod:`verikit.serve_gate`;
a server in a background thread (tests, benchmarks): :mod:`verikit.serve_harness`.
"""

import asyncio
import ipaddress
import os
import secrets
import time
import uuid
from typing import Any

from verikit.errors import Cancelled, VerikitError
from verikit.interfaces import Completions
from verikit.serve_gate import Busy, Gone, ModelGate
from verikit.serve_guard import server_config
from verikit.serve_schemas import (
    API_KEY_ENV,
    MAX_SEED,
    MIN_TEMPERATURE,
    CompletionRequest,
    ScoreItem,
    ScoreRequest,
    ServeLimits,
)

__all__ = [
    "API_KEY_ENV",
    "MAX_SEED",
    "MIN_TEMPERATURE",
    "CompletionRequest",
    "ModelGate",
    "ScoreItem",
    "ScoreRequest",
    "ServeLimits",
    "create_app",
    "is_loopback",
    "serve",
    "server_config",
    "stoppable_server",
]


def create_app(
    completer=None,
    scorer=None,
    model_name: str = "verikit",
    limits: ServeLimits | None = None,
    api_key: str | None = None,
):
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

    @app.exception_handler(Busy)
    async def busy(request, exc):
        return JSONResponse(
            status_code=503,
            content={"error": {"message": "server busy: request queue is full; retry later", "type": "overloaded"}},
        )

    @app.exception_handler(Gone)
    async def gone(request, exc):  # 499 (nginx's "client closed request") when nobody is left to read it
        status = 503 if "shutting down" in str(exc) else 499
        return JSONResponse(status_code=status, content={"error": {"message": str(exc), "type": "cancelled"}})

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):  # OpenAI's error object; the offending values left out (they may be huge)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        param = ".".join(str(p) for p in first["loc"] if p != "body") or None
        message = f"{param}: {first['msg']}" if param else first["msg"]
        error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
        return JSONResponse(status_code=422, content={"error": error, "detail": errors})

    @app.exception_handler(HTTPException)
    async def http_error(request, exc):  # every refusal in OpenAI's shape: {"error": {message, type, param, code}}
        detail = exc.detail if isinstance(exc.detail, dict) else {"message": str(exc.detail)}
        error = {
            "message": detail.get("message", ""),
            "type": detail.get("type", "invalid_request_error"),
            "param": detail.get("param"),
            "code": detail.get("code"),
        }
        return JSONResponse(status_code=exc.status_code, content={"error": error}, headers=exc.headers)

    def refuse(status: int, message: str):
        raise HTTPException(status_code=status, detail={"message": message, "type": "invalid_request_error"})

    def disconnected(request: Request) -> asyncio.Event | None:
        return request.scope.get("verikit.disconnected")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": model_name if completer else None,
            "prm": getattr(scorer, "name", None) if scorer else None,
            "queue": gate.waiting,
            "queued_tokens": gate.queued_tokens,
            "busy": gate.lock.locked(),
        }

    def model_card() -> dict[str, Any]:
        return {"id": model_name, "object": "model", "created": 0, "owned_by": "verikit"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card()]}

    @app.get("/v1/models/{model_id:path}")
    async def model(model_id: str) -> dict[str, Any]:
        if model_id != model_name:
            raise HTTPException(
                status_code=404,
                detail={
                    "message": f"no model {model_id!r} here (it serves {model_name!r})",
                    "type": "invalid_request_error",
                    "code": "model_not_found",
                },
            )
        return model_card()

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
            refuse(
                422, f"stop takes at most {limits.max_stop} strings of at most {limits.max_stop_chars} characters each"
            )
        work = len(prompts) * body.n * body.max_tokens
        if work > limits.max_request_tokens:
            refuse(
                422,
                f"prompts x n x max_tokens = {len(prompts)} x {body.n} x {body.max_tokens} = {work} tokens; "
                f"this server accepts at most {limits.max_request_tokens} per request (split it)",
            )
        # without a seed, a fresh one: repeated requests must not return copies of one sample; the seed used is in the
        # response, so a run can be replayed
        seed = body.seed if body.seed is not None else secrets.randbits(63)
        window = completer.context_window()
        lengths = await asyncio.to_thread(completer.count_tokens, prompts)
        if window is not None:
            for index, length in enumerate(lengths or []):
                if length + body.max_tokens > window:
                    refuse(
                        413,
                        f"prompt {index} has {length} tokens; with max_tokens={body.max_tokens} that exceeds "
                        f"the model's {window} positions",
                    )

        def generate(cancel):
            texts = Completions.of(
                completer.complete(
                    prompts,
                    n=body.n,
                    temperature=body.temperature,
                    top_p=body.top_p,
                    max_new_tokens=body.max_tokens,
                    stop=stop,
                    seed=seed,
                    cancel=cancel,
                )
            )
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
                choices.append(
                    {
                        "index": p_index * body.n + j,
                        "text": text,
                        "finish_reason": finish,
                        "stop_reason": matched,
                        "logprobs": None,
                    }
                )
        completion_tokens = sum(map(sum, counts))
        prompt_tokens = sum(lengths) * body.n if lengths else None  # each of the n samples reads its prompt
        return {
            "id": f"cmpl-{uuid.uuid4().hex[:24]}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": model_name,
            "seed": seed,
            "choices": choices,
            "usage": {
                "completion_tokens": completion_tokens,
                "prompt_tokens": prompt_tokens,
                "total_tokens": None if prompt_tokens is None else prompt_tokens + completion_tokens,
            },
        }

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
                refuse(
                    422, f"items[{index}] has {len(item.steps)} steps; this server accepts at most {limits.max_steps}"
                )
            size = len(item.question) + sum(len(s) for s in item.steps)
            if size > limits.max_prompt_chars:
                refuse(
                    413, f"items[{index}] has {size} characters; this server accepts at most {limits.max_prompt_chars}"
                )

        def run(cancel):
            if cancel.is_set():
                raise Cancelled("scoring was cancelled before it started")
            return scorer.score([i.question for i in body.items], [i.steps for i in body.items])

        try:
            step_scores = await gate.run(run, disconnected=disconnected(request))
        except ValueError as exc:  # DataError: a step holding the tag, a solution longer than the model reads
            refuse(422, str(exc))
        return {
            "object": "list",
            "aggregation": body.aggregation,
            "data": [
                {"index": i, "step_scores": s, "score": aggregate(s, body.aggregation)}
                for i, s in enumerate(step_scores)
            ],
        }

    return RequestGuard(app, max_body_bytes=limits.max_body_bytes, body_timeout=limits.body_timeout, api_key=api_key)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def stoppable_server(config, gate: ModelGate):
    """A ``uvicorn.Server`` whose SIGTERM/SIGINT first cancels the model's work, so it exits within seconds."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            gate.stopping.set()
            super().handle_exit(sig, frame)

    return Server(config)


def serve(
    model: str | None,
    prm: str | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    device: str = "auto",
    limits: ServeLimits | None = None,
    batch_size: int = 64,
    api_key: str | None = None,
    released_convention: bool = False,
    backend: str = "transformers",
) -> None:
    """Load the models and serve until interrupted (SIGTERM/SIGINT cancel the work in flight)."""
    from verikit import components
    from verikit.components import load_scorer

    if model is None and prm is None:
        raise VerikitError("give --model (completions), --prm (step scores) or both")
    api_key = api_key or os.environ.get(API_KEY_ENV) or None
    if api_key is None and not is_loopback(host):
        raise VerikitError(
            f"serving on {host} (beyond loopback) needs an API key: --api-key KEY or ${API_KEY_ENV}; "
            "clients send it as 'Authorization: Bearer KEY'"
        )
    limits = limits or ServeLimits()
    if model:
        from verikit.interfaces import accepted_settings

        factory = components.lookup("completers", backend)
        completer = factory(model=model, **accepted_settings(factory, device=device, batch_size=batch_size))
    else:
        completer = None
    scorer = (
        load_scorer(prm, device=None if device == "auto" else device, released_convention=released_convention)
        if prm
        else None
    )
    app = create_app(completer, scorer, model_name=model or "none", limits=limits, api_key=api_key)
    server = stoppable_server(server_config(app, host, port, limits), app.app.state.gate)
    server.run()


def __getattr__(name: str):
    if name == "BackgroundServer":  # moved to verikit.serve_harness (a test harness, not the product's server)
        import warnings

        from verikit.serve_harness import BackgroundServer

        warnings.warn(
            "verikit.serve.BackgroundServer is now verikit.serve_harness.BackgroundServer",
            DeprecationWarning,
            stacklevel=2,
        )
        return BackgroundServer
    raise AttributeError(name)
