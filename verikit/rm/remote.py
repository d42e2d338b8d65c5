"""A scorer whose model runs elsewhere: the ``/v1/score`` endpoint of ``verikit serve --prm`` over HTTP.

Lets many annotation or RL workers share one GPU-resident PRM. ``verikit.scorer("http://host:8000")`` gives
one (the ``remote`` scorer kind); requests carry at most ``batch_size`` solutions and are retried as the
remote completer's are (:mod:`verikit.http_client`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from verikit.errors import ServerError
from verikit.http_client import async_client, post_json, run_sync
from verikit.interfaces import Scorer


class RemoteScorer(Scorer):
    """Step scores from a ``verikit serve --prm`` server at ``url`` (its root, e.g. ``http://127.0.0.1:8000``)."""

    def __init__(
        self,
        url: str,
        manifest: dict | None = None,
        batch_size: int = 16,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        root = url.rstrip("/")
        self.url = (root if root.endswith("/v1") else root + "/v1") + "/score"
        self.name, self.batch_size, self.timeout, self.retries, self.backoff = (
            url,
            batch_size,
            timeout,
            retries,
            backoff,
        )
        self.api_key = api_key if api_key is not None else os.environ.get("VERIKIT_API_KEY")

    def score(self, questions: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        items = [{"question": q, "steps": list(s)} for q, s in zip(questions, steps, strict=True)]
        batches = [items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)]
        answers = run_sync(self._post_all(batches))
        scores: list[list[float]] = []
        for batch, answer in zip(batches, answers):
            data = sorted(answer.get("data") or [], key=lambda d: d.get("index", 0))
            if len(data) != len(batch) or any(
                len(d.get("step_scores") or []) != len(i["steps"]) for d, i in zip(data, batch)
            ):
                raise ServerError(f"{self.url}: the answer does not hold one score per step of each solution")
            scores.extend([float(v) for v in d["step_scores"]] for d in data)
        return scores

    async def _post_all(self, batches: list[list[dict]]) -> list[dict]:
        async with async_client(self.timeout, self.api_key) as client:
            return [
                await post_json(client, self.url, {"items": batch}, retries=self.retries, backoff=self.backoff)
                for batch in batches
            ]
