"""The score stage: every saved sample scored by every reward model, one model on the device at a time.

Scores are saved per reward model with two fingerprints: of the samples and of the model (its
``verikit_rm.json``, or its address). Re-running after training a new PRM scores with the new PRM only and
generates nothing; scores whose samples or model changed are computed again.
"""

from __future__ import annotations

import hashlib
import json
import time

from verikit.bon import gather_samples
from verikit.components import load_scorer
from verikit.models import RM_MANIFEST
from verikit.pipeline.sampling import load_samples, samples_fingerprint
from verikit.pipeline.workspace import Workspace, release, write_json_atomically


def model_fingerprint(path: str) -> str:
    manifest = f"{path}/{RM_MANIFEST}"
    try:
        with open(manifest, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()[:16]
    except OSError:  # a hub id or a server: its name is all there is
        return hashlib.sha256(path.encode()).hexdigest()[:16]


def run_score(ws: Workspace) -> dict:
    """Score the samples of every dataset with every reward model that has no up-to-date scores yet."""
    from verikit.rm.scorer import score_unique

    report: dict = {}
    readable_by_ref = {}
    for ref in ws.recipe.sample.datasets:
        problems, _, samples = load_samples(ws, ref)
        checker, splitter = ws.checker_and_splitter(ws.domain(problems))
        _, readable, unscorable = gather_samples(problems, samples, checker, splitter)
        readable_by_ref[ref.key] = (ref, readable, samples_fingerprint(ws, ref), unscorable)
    for spec in ws.recipe.reward_models:
        path = ws.reward_model_path(spec)
        fingerprint = model_fingerprint(path)
        scorer = None
        for key, (ref, readable, samples_key, unscorable) in readable_by_ref.items():
            target = ws.scores(ref) / f"{spec.name}.json"
            if target.exists():
                cached = json.loads(target.read_text())
                if cached.get("samples") == samples_key and cached.get("model") == fingerprint:
                    report.setdefault(key, {})[spec.name] = {"reused": True}
                    continue
            if scorer is None:
                scorer = load_scorer(path, batch_size=ws.recipe.score.batch_size,
                                     released_convention=spec.released_convention)
            questions, steps = [r.question for r in readable], [r.steps for r in readable]
            started, tokens_before = time.perf_counter(), scorer.scored_tokens
            step_scores = score_unique(scorer, questions, steps)
            seconds = time.perf_counter() - started
            tokens = scorer.scored_tokens - tokens_before  # what the model read: each distinct solution once
            write_json_atomically(target, {"samples": samples_key, "model": fingerprint, "reward_model": path,
                                           "step_scores": step_scores})
            report.setdefault(key, {})[spec.name] = {
                "reused": False, "scored_samples": len(readable), "unscorable_samples": unscorable,
                "seconds": round(seconds, 1), "samples_per_second": round(len(readable) / seconds, 1) if seconds else None,
                "tokens_per_second": round(tokens / seconds, 1) if tokens and seconds else None}
        if scorer is not None:
            release(scorer)
    return report


def load_step_scores(ws: Workspace, ref, name: str) -> list[list[float]]:
    from verikit.errors import DataError

    target = ws.scores(ref) / f"{name}.json"
    if not target.exists():
        raise DataError(f"no scores of reward model {name!r}; run --stage score", path=target)
    cached = json.loads(target.read_text())
    if cached.get("samples") != samples_fingerprint(ws, ref):
        raise DataError("these scores belong to other samples; run --stage score again", path=target)
    return cached["step_scores"]
