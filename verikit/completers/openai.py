"""A completer for any OpenAI-compatible ``/v1/completions`` server (vLLM, llama.cpp, TGI, ``verikit serve``).

Requests go out concurrently (at most ``max_concurrency`` at a time) through one ``httpx.AsyncClient``,
with the retry policy of :mod:`verikit.http_client` (``retries`` retries, exponential backoff). One request per prompt
asks for ``n``
completions; the server's seed is ``seed + prompt index``, so a run is reproducible where the server
honours seeds.

Stop strings: verikit's contract is that a continuation ends right *after* its stop string, which it
includes. OpenAI servers cut the stop string off, so the request sets ``include_stop_str_in_output``
(understood by vLLM and ``verikit serve``); where a server ignores it but reports ``stop_reason`` (vLLM),
the stop string is put back from there. A server with neither returns text without its stop string.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

from verikit.errors import ServerError
from verikit.http_client import async_client, import_httpx, post_json, run_sync
from verikit.interfaces import Completer, Completions


class OpenAICompleter(Completer):
    """Completions from an OpenAI-compatible server.

    Args:
        base_url: the server's root, e.g. ``http://127.0.0.1:8000/v1`` (``/completions`` is appended);
            default ``$OPENAI_BASE_URL``, so ``verikit annotate --completer-backend openai`` can use it.
        model: the model name the server expects.
        api_key: sent as a bearer token (default: ``$OPENAI_API_KEY``, else none).
        max_concurrency: requests in flight at once.
        timeout: seconds per request.
        retries: retries of a failed request (connection errors, timeouts, 408/409/429/5xx).
        backoff: first retry delay in seconds; doubles each retry, with jitter.
        max_new_tokens: default ``max_tokens`` per completion.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        model: str = "default",
        api_key: str | None = None,
        max_concurrency: int = 8,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_new_tokens: int = 256,
    ):
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ValueError("OpenAICompleter needs base_url (or $OPENAI_BASE_URL), e.g. http://127.0.0.1:8000/v1")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.url = base_url.rstrip("/") + "/completions"
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self.max_concurrency, self.timeout, self.retries, self.backoff = max_concurrency, timeout, retries, backoff
        self.max_new_tokens = max_new_tokens
        self.generated_tokens = 0

    def request_body(
        self,
        prompt: str,
        n: int,
        *,
        temperature: float,
        top_p: float,
        max_new_tokens: int | None,
        stop: Sequence[str],
        seed: int | None,
    ) -> dict[str, Any]:
        """The JSON body of one ``/v1/completions`` request."""
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "n": n,
            "temperature": temperature,
            "top_p": top_p,
            "max_tokens": max_new_tokens or self.max_new_tokens,
        }
        if stop:
            body.update(stop=list(stop), include_stop_str_in_output=True)
        if seed is not None:
            body["seed"] = seed
        return body

    @staticmethod
    def texts_from(response: dict[str, Any], n: int, stop: Sequence[str]) -> tuple[list[str], list[int] | None]:
        """The ``n`` continuations of a response, in index order, with their stop strings; and token counts
        (``None`` when the server reports no usage)."""
        choices = sorted(response.get("choices") or [], key=lambda c: c.get("index", 0))
        if len(choices) != n:
            raise ServerError(f"asked for {n} completions, the server returned {len(choices)}")
        texts = []
        for choice in choices:
            text = choice.get("text")
            if not isinstance(text, str):
                raise ServerError(f"a completion without text: {str(choice)[:200]}")
            reason = choice.get("stop_reason")
            if stop and isinstance(reason, str) and reason in stop and not text.endswith(reason):
                text += reason
            texts.append(text)
        completion_tokens = (response.get("usage") or {}).get("completion_tokens")
        counts = [completion_tokens // n] * n if isinstance(completion_tokens, int) else None
        return texts, counts

    def complete(
        self,
        prompts: Sequence[str],
        n: int = 1,
        *,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int | None = None,
        stop: Sequence[str] | None = None,
        seed: int | None = 0,
        progress: Any = None,
    ) -> Completions:
        stop = self.checked_stop(n, stop)
        if not prompts:
            return Completions([], [])
        bodies = [
            self.request_body(
                p,
                n,
                temperature=temperature,
                top_p=top_p,
                max_new_tokens=max_new_tokens,
                stop=stop,
                seed=None if seed is None else seed + i,
            )
            for i, p in enumerate(prompts)
        ]
        responses = run_sync(self._post_all(bodies, progress))
        results, counts = [], []
        for response in responses:
            texts, tokens = self.texts_from(response, n, stop)
            results.append(texts)
            counts.append(tokens)
        known = None if any(c is None for c in counts) else counts
        self.generated_tokens += sum(map(sum, known or []))
        return Completions(results, known)

    async def _post_all(self, bodies: list[dict], progress) -> list[dict]:
        httpx = import_httpx()
        gate = asyncio.Semaphore(self.max_concurrency)
        limits = httpx.Limits(max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency)
        async with async_client(self.timeout, self.api_key, limits=limits) as client:

            async def one(body):
                async with gate:
                    response = await self._post(client, body)
                if progress is not None:
                    progress(1)
                return response

            return await asyncio.gather(*(one(b) for b in bodies))

    async def _post(self, client, body: dict) -> dict:
        return await post_json(client, self.url, body, retries=self.retries, backoff=self.backoff)
