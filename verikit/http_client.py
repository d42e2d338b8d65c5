"""POSTing JSON to a model server with retries: httpx for the requests, tenacity for the retry policy.

Shared by the OpenAI-compatible completer and the remote scorer. A connection error, a timeout, or a
408/409/429/5xx answer is retried with exponential backoff (full jitter); any other error status fails at once
with the server's message.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from verikit.errors import ServerError

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}


class _Retryable(Exception):
    """A failure worth another attempt (carries the reason shown if every attempt fails)."""


def import_httpx():
    try:
        import httpx
    except ImportError as exc:
        raise ImportError("talking to a model server needs httpx and tenacity: pip install 'verikit[serve]'") from exc
    return httpx


def async_client(timeout: float, api_key: str | None, **options: Any):
    """An ``httpx.AsyncClient`` that sends ``api_key`` (if any) as a bearer token; ``options`` go to httpx."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return import_httpx().AsyncClient(timeout=timeout, headers=headers, **options)


async def post_json(client: Any, url: str, body: dict, *, retries: int, backoff: float) -> dict:
    """The JSON answer to ``body`` POSTed to ``url`` with ``client`` (an ``httpx.AsyncClient``), retried
    ``retries`` times after the first attempt; :class:`ServerError` when it cannot be had."""
    from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt, wait_random_exponential

    httpx = import_httpx()

    async def attempt() -> dict:
        try:
            response = await client.post(url, json=body)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 200:
            return response.json()
        message = response.text[:500]
        if response.status_code in RETRY_STATUSES:
            raise _Retryable(f"status {response.status_code}: {message}")
        raise ServerError(f"{url} answered {response.status_code}: {message}")

    policy = AsyncRetrying(
        retry=retry_if_exception_type(_Retryable),
        stop=stop_after_attempt(retries + 1),
        wait=wait_random_exponential(multiplier=backoff, max=60),
        reraise=False,
    )
    try:
        async for trial in policy:
            with trial:
                return await attempt()
    except RetryError as exc:
        last = exc.last_attempt.exception()
        raise ServerError(f"{url}: no answer after {retries + 1} attempts ({last})") from None
    raise AssertionError("unreachable: tenacity either returns, raises or retries")


def run_sync(coroutine):
    """Run a coroutine to completion, also from code that is already inside an event loop (e.g. Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
