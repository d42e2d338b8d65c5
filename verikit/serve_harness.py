"""A verikit server in a background thread of this process, for tests, benchmarks and notebooks (not the product's
server, which :func:`verikit.serve.serve` runs in the foreground)."""

from __future__ import annotations

import time

from verikit.serve_guard import server_config
from verikit.serve_schemas import ServeLimits


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
