"""Ray-distributed annotation: the run's chunks shared out to Ray actors, each with its own models.

The driver keeps the one :class:`~verikit.annotation.storage.AnnotationStore` and is its only writer, so
storage stays exactly-once: an actor returns a chunk's records and the driver appends them. An actor
process that dies (killed, out of memory, its node lost) is restarted by Ray and its chunk is run again;
chunks are seeded by their index alone, so the re-run gives the same records, and records already stored
are never appended twice. The dataset is therefore the single-process run's, whatever the number of
workers and whatever dies along the way. The driver itself can be killed and resumed like any run.

Extra ``verikit[ray]``. ``address=None`` starts a local Ray with ``workers`` CPUs (``ray.init(num_cpus=…)``);
pass ``"auto"`` or a cluster address to join an existing cluster.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from verikit.annotation.config import AnnotationConfig
from verikit.annotation.driver import AnnotationSummary, open_run, progress_bar, summarize
from verikit.errors import VerikitError


class AnnotationWorker:
    """A Ray actor's state: one Annotator (its models load once), annotating chunk after chunk."""

    def __init__(self, config: dict, torch_threads: int | None = None):
        import torch

        from verikit.annotation.driver import Annotator

        if torch_threads:
            torch.set_num_threads(torch_threads)
        self.config = AnnotationConfig(**config)
        self.annotator = Annotator(self.config)

    def pid(self) -> int:
        import os

        return os.getpid()

    def annotate_chunk(self, chunk: int, problems: list) -> list[dict]:
        return self.annotator.annotate_chunk(chunk, problems)


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ImportError("distributed annotation needs Ray: pip install 'verikit[ray]'") from exc
    return ray


RESTART_POLL = 0.5  # seconds between tries of a worker that is restarting


def annotate_with_ray(
    config: AnnotationConfig,
    out: str | Path,
    workers: int = 2,
    address: str | None = None,
    progress: bool = True,
    max_attempts: int = 4,
    torch_threads: int | None = 1,
    on_chunk_done: Callable[[int, list], Any] | None = None,
    retry_errors: bool = False,
    restart_timeout: float = 300.0,
) -> AnnotationSummary:
    """Annotate like :func:`verikit.annotation.driver.annotate`, with ``workers`` Ray actors doing the chunks.

    ``on_chunk_done(chunk, actors)`` is called after each stored chunk (tests use it to kill a worker).
    A chunk whose actor died is given to a live actor again, up to ``max_attempts`` times in all; a chunk sent to
    an actor that is still restarting waits for it (up to ``restart_timeout`` seconds) without using an attempt.
    """
    ray = _import_ray()
    started = time.perf_counter()
    store, summary, chunks, todo = open_run(config, out, retry_errors=retry_errors)
    bar, _ = progress_bar(
        config,
        sum(len(chunks[c]) for c in todo) * config.samples_per_problem * len(config.generator),
        started,
        progress,
    )
    if not todo:
        bar.close()
        return summarize(store, summary, started)
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            object_store_memory=None if address else 200 * 2**20,
        )
    try:
        remote = ray.remote(num_cpus=1, max_restarts=-1)(AnnotationWorker)
        actors = [remote.remote(config.model_dump(), torch_threads) for _ in range(min(workers, len(todo)))]
        queue = list(todo)
        attempts = {c: 0 for c in todo}
        unavailable: dict[int, float] = {}  # chunk → seconds spent waiting for a restarting worker
        running: dict[Any, tuple[int, Any]] = {}  # object ref → (chunk, actor)
        idle = list(actors)
        while queue or running:
            while queue and idle:
                chunk, actor = queue.pop(0), idle.pop(0)
                attempts[chunk] += 1
                running[actor.annotate_chunk.remote(chunk, chunks[chunk])] = (chunk, actor)
            done, _ = ray.wait(list(running), num_returns=1)
            chunk, actor = running.pop(done[0])
            idle.append(actor)  # a restarted actor takes work again
            try:
                records = ray.get(done[0])
            except ray.exceptions.ActorUnavailableError as exc:
                # The actor is restarting (a busy machine can take many seconds): the chunk never ran, so this is
                # no attempt; it waits for the restart rather than burning its attempts on a closed door.
                attempts[chunk] -= 1
                unavailable[chunk] = unavailable.get(chunk, 0.0) + RESTART_POLL
                if unavailable[chunk] > restart_timeout:
                    raise VerikitError(
                        f"chunk {chunk}: its worker did not come back within {restart_timeout:.0f} s ({exc})"
                    ) from exc
                time.sleep(RESTART_POLL)
                queue.insert(0, chunk)
                continue
            except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as exc:
                if attempts[chunk] >= max_attempts:
                    raise VerikitError(f"chunk {chunk} failed on {attempts[chunk]} workers; last: {exc}") from exc
                queue.insert(0, chunk)  # the actor restarts; the chunk runs again, seeded the same
                continue
            store.append(chunk, records)
            bar.update(len(records))
            if on_chunk_done is not None:
                on_chunk_done(chunk, actors)
    finally:
        bar.close()
        if started_ray:
            ray.shutdown()
    return summarize(store, summary, started)
