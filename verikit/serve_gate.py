"""The model's gate in ``verikit serve``: one request at a time, bounded waiting, work cancelled when its client
leaves."""

from __future__ import annotations

import asyncio
import threading

from verikit.errors import Cancelled


class Busy(Exception):
    """The queue is full (requests or tokens): the request is refused at once (503)."""

    pass


class Gone(Exception):
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
            raise Gone("server shutting down")
        if self.lock.locked() and (
            self.waiting >= self.max_queue or self.queued_tokens + work > self.max_queued_tokens
        ):
            raise Busy()
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
                raise Gone("server shutting down" if self.stopping.is_set() else "client disconnected") from None
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
        raise Gone("client disconnected while queued")
