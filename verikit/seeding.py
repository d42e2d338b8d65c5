"""Seeds derived from a run's seed and the coordinates of a unit of work, so results do not depend on scheduling.

Annotation seeds each solution and rollout by (problem, sample, step prefix); the sample stage seeds each shard
by (dataset, shard). The same coordinates give the same seed on every machine and in every process.
"""

from __future__ import annotations

import hashlib
from typing import Any


def derived_seed(base: int, *parts: Any) -> int:
    """A seed for one unit of work (a chunk, a round, a shard) from the run's seed and the unit's coordinates."""
    return int(hashlib.sha256(repr((base, *parts)).encode()).hexdigest()[:8], 16)


def rollout_seeds(base: int, key: tuple[str, str], start: int, count: int) -> list[int]:
    """The seeds of rollouts ``start .. start+count-1`` from one step prefix (``key``: problem id, prefix).

    With a completer that takes per-sample seeds, the ``i``-th rollout of a prefix is the same whatever
    round, chunk or batch asks for it, so a step's label does not depend on how the run is scheduled:
    chunk size, round size and batch size change the speed, not the labels."""
    return [derived_seed(base, "rollout", *key, index) for index in range(start, start + count)]


def sample_seeds(base: int, problem_id: str, generator_index: int, count: int) -> list[int]:
    """The seeds of one generator's ``count`` solutions of a problem. The first generator's keep the coordinates
    (problem, sample) they always had, so a run with one generator draws what it drew before generators were a list."""
    if generator_index == 0:
        return [derived_seed(base, "sample", problem_id, j) for j in range(count)]
    return [derived_seed(base, "sample", problem_id, "generator", generator_index, j) for j in range(count)]
