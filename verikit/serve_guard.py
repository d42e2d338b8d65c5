"""What stands between the network and ``verikit serve``'s model: an ASGI middleware and an HTTP protocol.

* :class:`RequestGuard` (ASGI middleware): the bearer token, then the body read *with* a size limit
  (a ``Content-Length`` over it is refused before a byte is read; a chunked body is cut off at the limit)
  and a deadline for the whole body (a client trickling it in gets 408), then the body replayed to the
  application. After the body it watches the connection and sets ``scope["verikit.disconnected"]`` (an
  ``asyncio.Event``) when the client goes away, so the work done for that client can be cancelled.
* :class:`GuardedH11Protocol` (uvicorn's h11 protocol): a connection that has not sent a request's headers
  within ``header_timeout`` seconds of opening (or of its previous response) is closed. uvicorn bounds
  idle keep-alive connections but not one that trickles its headers byte by byte (slow loris).
"""

from __future__ import annotations

import asyncio
import hmac
import json

from uvicorn.protocols.http.h11_impl import H11Protocol


async def send_json(send, status: int, message: str, kind: str, close: bool = False) -> None:
    body = json.dumps({"detail": {"message": message, "type": kind}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:  # the rest of an oversized or stalled body is not read: end the connection after answering
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware: authentication, a bounded and timely body, and disconnect detection (see module doc)."""

    OPEN_PATHS = ("/health",)  # answered without the token: load balancers probe it

    def __init__(self, app, *, max_body_bytes: int, body_timeout: float, api_key: str | None = None):
        self.app, self.max_body_bytes, self.body_timeout = app, max_body_bytes, body_timeout
        self.api_key = api_key.encode() if api_key else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.api_key is not None and scope.get("path") not in self.OPEN_PATHS:
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, b"Bearer " + self.api_key):
                return await send_json(
                    send, 401, "missing or wrong bearer token (Authorization: Bearer <key>)", "authentication_error"
                )
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            return await send_json(
                send,
                413,
                f"request body over this server's limit of {self.max_body_bytes} bytes",
                "invalid_request_error",
                close=True,
            )
        body = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                return await send_json(
                    send,
                    408,
                    f"request body not received within {self.body_timeout:g} s",
                    "invalid_request_error",
                    close=True,
                )
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                return await send_json(
                    send,
                    413,
                    f"request body over this server's limit of {self.max_body_bytes} bytes",
                    "invalid_request_error",
                    close=True,
                )
            if not message.get("more_body", False):
                break
        disconnected = asyncio.Event()
        scope["verikit.disconnected"] = disconnected

        async def watch():  # the only reader of the connection from here on
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    return

        watcher = asyncio.ensure_future(watch())
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            await disconnected.wait()
            return {"type": "http.disconnect"}

        try:
            await self.app(scope, replay, send)
        finally:
            watcher.cancel()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers do not arrive in time."""

    header_timeout = 10.0  # set by ``serve`` (a subclass per server) before the first connection

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        cycle = self.cycle  # a new request replaces it; if it is still this one when the timer fires: too slow

        def too_slow():
            if self.cycle is cycle and not self.transport.is_closing():
                self.transport.close()

        self.loop.call_later(self.header_timeout, too_slow)


def server_config(app, host: str, port: int, limits):
    """A ``uvicorn.Config`` with verikit's connection limits (header deadline, connection cap, keep-alive) from
    :class:`~verikit.serve_schemas.ServeLimits`."""
    import uvicorn

    protocol = type("VerikitH11Protocol", (GuardedH11Protocol,), {"header_timeout": limits.header_timeout})
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        http=protocol,
        loop="asyncio",
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=3,
    )
