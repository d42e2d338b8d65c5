"""``verikit serve``: an OpenAI-compatible ``/v1/completions`` endpoint and a ``/v1/score`` PRM endpoint.

So that RL frameworks and annotation workers elsewhere can use a verikit model or PRM over HTTP.
FastAPI + uvicorn (extra ``verikit[serve]``). Bounded by design: prompt length, ``n``, ``max_tokens`` and
steps per request have limits (413/422 beyond them), and at most ``max_queue`` requests wait for the
model — one more gets 503 at once instead of piling up. The model serves one request at a time in a
worker thread, so the event loop keeps answering ``/health`` and refusals while it works.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


@dataclass
class ServeLimits:
    max_prompt_chars: int = 32_000
    max_n: int = 64
    max_tokens: int = 1024
    max_steps: int = 512
    max_batch: int = 64  # prompts (or solutions to score) in one request
    max_queue: int = 64  # requests waiting for the model beyond the one it is working on


class CompletionRequest(BaseModel):
    """The subset of OpenAI's completions request that verikit honours (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    prompt: str | list[str]
    n: int = Field(default=1, ge=1)
    temperature: float = Field(default=1.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(default=16, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    include_stop_str_in_output: bool = False
    user: str | None = None


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    steps: list[str] = Field(min_length=1)


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ScoreItem] = Field(min_length=1)
    aggregation: str = "min"


class _Busy(Exception):
    pass


class ModelGate:
    """One request at a time on the model; at most ``max_queue`` waiting; the rest refused at once."""

    def __init__(self, max_queue: int):
        self.lock = asyncio.Lock()
        self.max_queue = max_queue
        self.waiting = 0

    async def run(self, function, *args):
        if self.lock.locked() and self.waiting >= self.max_queue:
            raise _Busy()
        self.waiting += 1
        try:
            await self.lock.acquire()
        finally:
            self.waiting -= 1
        try:
            return await asyncio.to_thread(function, *args)
        finally:
            self.lock.release()


def create_app(completer=None, scorer=None, model_name: str = "verikit", limits: ServeLimits | None = None):
    """The FastAPI application around a loaded completer (``/v1/completions``) and/or PRM scorer (``/v1/score``)."""
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import JSONResponse

    limits = limits or ServeLimits()
    app = FastAPI(title="verikit serve", version="0.1")
    gate = ModelGate(limits.max_queue)

    @app.exception_handler(_Busy)
    async def busy(request, exc):
        return JSONResponse(status_code=503, content={"error": {"message": "server busy: request queue is full; retry later",
                                                                "type": "overloaded"}})

    def refuse(status: int, message: str):
        raise HTTPException(status_code=status, detail={"message": message, "type": "invalid_request_error"})

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": model_name if completer else None, "prm": getattr(scorer, "name", None) if scorer else None,
                "queue": gate.waiting, "busy": gate.lock.locked()}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "verikit"}]}

    @app.post("/v1/completions")
    async def completions(request: CompletionRequest) -> dict[str, Any]:
        if completer is None:
            refuse(404, "this server has no completion model (start it with --model)")
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if not prompts or len(prompts) > limits.max_batch:
            refuse(422, f"prompt must hold 1 to {limits.max_batch} prompts, got {len(prompts)}")
        longest = max(len(p) for p in prompts)
        if longest > limits.max_prompt_chars:
            refuse(413, f"a prompt has {longest} characters; this server accepts at most {limits.max_prompt_chars}")
        if request.n > limits.max_n:
            refuse(422, f"n={request.n} exceeds this server's limit of {limits.max_n}")
        if request.max_tokens > limits.max_tokens:
            refuse(422, f"max_tokens={request.max_tokens} exceeds this server's limit of {limits.max_tokens}")
        stop = [request.stop] if isinstance(request.stop, str) else list(request.stop or [])

        def generate():
            texts = completer.complete(prompts, n=request.n, temperature=request.temperature, top_p=request.top_p,
                                       max_new_tokens=request.max_tokens, stop=stop, seed=request.seed or 0)
            return texts, completer.last_token_counts

        texts, counts = await gate.run(generate)
        choices = []
        for p_index, (sample, sample_counts) in enumerate(zip(texts, counts)):
            for j, (text, used) in enumerate(zip(sample, sample_counts)):
                matched = next((s for s in stop if text.endswith(s)), None)  # the completer cut right after it
                if matched and not request.include_stop_str_in_output:
                    text = text[: -len(matched)]
                finish = "stop" if matched or used < request.max_tokens else "length"
                choices.append({"index": p_index * request.n + j, "text": text, "finish_reason": finish,
                                "stop_reason": matched, "logprobs": None})
        completion_tokens = sum(map(sum, counts))
        return {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion", "created": int(time.time()),
                "model": model_name, "choices": choices,
                "usage": {"completion_tokens": completion_tokens, "prompt_tokens": None, "total_tokens": None}}

    @app.post("/v1/score")
    async def score(request: ScoreRequest) -> dict[str, Any]:
        from verikit.rm.scorer import AGGREGATIONS, aggregate

        if scorer is None:
            refuse(404, "this server has no reward model (start it with --prm)")
        if request.aggregation not in AGGREGATIONS:
            refuse(422, f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {request.aggregation!r}")
        if len(request.items) > limits.max_batch:
            refuse(422, f"at most {limits.max_batch} items per request, got {len(request.items)}")
        for index, item in enumerate(request.items):
            if len(item.steps) > limits.max_steps:
                refuse(422, f"items[{index}] has {len(item.steps)} steps; this server accepts at most {limits.max_steps}")
            size = len(item.question) + sum(len(s) for s in item.steps)
            if size > limits.max_prompt_chars:
                refuse(413, f"items[{index}] has {size} characters; this server accepts at most {limits.max_prompt_chars}")

        def run():
            return scorer.score([i.question for i in request.items], [i.steps for i in request.items])

        try:
            step_scores = await gate.run(run)
        except ValueError as exc:  # DataError: a step holding the tag, a solution longer than the model reads
            refuse(422, str(exc))
        return {"object": "list", "aggregation": request.aggregation,
                "data": [{"index": i, "step_scores": s, "score": aggregate(s, request.aggregation)}
                         for i, s in enumerate(step_scores)]}

    return app


def serve(model: str | None, prm: str | None, host: str = "127.0.0.1", port: int = 8000, device: str = "auto",
          limits: ServeLimits | None = None, batch_size: int = 64) -> None:
    """Load the models and serve until interrupted."""
    import uvicorn

    import verikit
    from verikit.rm.scorer import load_scorer

    if model is None and prm is None:
        raise ValueError("give --model (completions), --prm (step scores) or both")
    completer = verikit.completer("transformers", model=model, device=device, batch_size=batch_size) if model else None
    scorer = load_scorer(prm, device=None if device == "auto" else device) if prm else None
    app = create_app(completer, scorer, model_name=model or "none", limits=limits)
    uvicorn.run(app, host=host, port=port, log_level="warning")


class BackgroundServer:
    """Run an app with uvicorn on 127.0.0.1 in a thread (tests, benchmarks, notebooks): ``with … as url:``."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        import socket

        if port == 0:  # a free port, chosen now so that the URL is known before the server starts
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.app, self.host, self.port = app, host, port
        self.url = f"http://{host}:{port}"

    def __enter__(self) -> str:
        import threading

        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on {self.url} did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
