"""The score stage: every saved sample scored by every reward model that scores its dataset, one model at a time.

Scores are saved per reward model, dataset and sample set, with a fingerprint of the samples (their contents) and of
the model (its folder's files, and its base's when it reads one). Re-running after training a new PRM scores with
the new PRM only and generates nothing; scores whose samples or model changed are computed again.
"""

from __future__ import annotations

import json
import time

from verikit.bon import gather_samples
from verikit.components import load_scorer
from verikit.errors import DataError
from verikit.pipeline.reuse import Fingerprint, decide, record, reward_model_identity
from verikit.pipeline.stage import Stage
from verikit.pipeline.stages.sample import load_samples, samples_fingerprint
from verikit.pipeline.workspace import Workspace, release, write_json_atomically


def run_score(ws: Workspace) -> dict:
    """Score the samples of every dataset (and set) with every reward model that has no up-to-date scores yet."""
    from verikit.rm.scorer import score_unique

    report: dict = {}
    work = []  # (spec, ref, sample set, readable samples, samples digest, unscorable)
    for ref in ws.recipe.sample.datasets:
        for sample_set in ws.sample_sets():
            problems, _, samples = load_samples(ws, ref, sample_set)
            checker, splitter = ws.checker_and_splitter(ws.domain(problems))
            _, readable, unscorable = gather_samples(problems, samples, checker, splitter)
            for spec in ws.reward_models_scoring(ref):
                work.append((spec, ref, sample_set, readable, samples_fingerprint(ws, ref, sample_set), unscorable))
    for spec in ws.recipe.reward_models:
        path = ws.reward_model_path(spec)
        identity = reward_model_identity(path)
        scorer = None
        for _, ref, sample_set, readable, samples_key, unscorable in [w for w in work if w[0] is spec]:
            target = ws.scores(ref, sample_set) / f"{spec.name}.json"
            key = ref.key + (f" set {sample_set}" if sample_set else "")
            fingerprint = Fingerprint.of(samples=samples_key, model=identity)
            decision = decide(target, fingerprint, f"{spec.name} scores of {key}")
            if decision.reuse:
                report.setdefault(key, {})[spec.name] = decision.report()
                continue
            print(f"   {decision.reason}", flush=True)
            if scorer is None:
                scorer = load_scorer(
                    path, batch_size=ws.recipe.score.batch_size, released_convention=spec.released_convention
                )
            questions, steps = [r.question for r in readable], [r.steps for r in readable]
            started, tokens_before = time.perf_counter(), scorer.scored_tokens
            step_scores = score_unique(scorer, questions, steps)
            seconds = time.perf_counter() - started
            tokens = scorer.scored_tokens - tokens_before  # what the model read: each distinct solution once
            write_json_atomically(target, {"reward_model": path, "step_scores": step_scores})
            record(target, fingerprint)
            report.setdefault(key, {})[spec.name] = {
                **decision.report(),
                "scored_samples": len(readable),
                "unscorable_samples": unscorable,
                "seconds": round(seconds, 1),
                "samples_per_second": round(len(readable) / seconds, 1) if seconds else None,
                "tokens_per_second": round(tokens / seconds, 1) if tokens and seconds else None,
            }
        if scorer is not None:
            release(scorer)
    return report


def load_step_scores(ws: Workspace, ref, name: str, sample_set: int = 0) -> list[list[float]]:
    from verikit.pipeline.reuse import stored_fingerprint

    target = ws.scores(ref, sample_set) / f"{name}.json"
    if not target.exists():
        raise DataError(f"no scores of reward model {name!r}; run --stage score", path=target)
    stored = stored_fingerprint(target) or {}
    if stored.get("samples") != samples_fingerprint(ws, ref, sample_set):
        raise DataError("these scores belong to other samples; run --stage score again", path=target)
    return json.loads(target.read_text())["step_scores"]


STAGE = Stage(
    run=run_score,
    present=lambda recipe: recipe.sample is not None and bool(recipe.reward_models),
    after=("sample", "train"),
    description="score every sample with every reward model (one forward pass each)",
)
