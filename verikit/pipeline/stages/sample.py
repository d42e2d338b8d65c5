"""The sample stage: greedy and N sampled solutions per problem from the policy, saved in resumable shards.

Problems are cut into shards of ``chunk_size`` in dataset order; each shard is generated with a seed derived from the
recipe's seed, the dataset, the sample set and the shard's index, and written atomically once done. A killed run
therefore resumes at the first missing shard and produces the very samples an uninterrupted run would. With
``repeats`` > 1 the stage draws that many independent sets of N per problem (the paper reports the mean of 3). A
set's folder is reused while its fingerprint (the sampled model's weights, the rows, the settings, the set) is
unchanged; ``meta.json`` describes what the samples are.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from verikit.errors import DataError
from verikit.pipeline.recipe import DatasetRef
from verikit.pipeline.reuse import Fingerprint, model_identity, record, rows_identity, start
from verikit.pipeline.stage import Stage
from verikit.pipeline.workspace import Workspace, release, write_json_atomically
from verikit.seeding import derived_seed


def sample_meta(ws: Workspace, ref: DatasetRef, problems: list, sample_set: int = 0) -> dict:
    stage = ws.recipe.sample
    domain = ws.domain(problems)
    settings = stage.model_dump(exclude={"datasets", "repeats"})
    return {
        "policy": ws.sample_policy(),
        "backend": ws.recipe.backend.model_dump(),
        "prompt_template": domain.prompt_template,
        "settings": settings,
        "sample_set": sample_set,
        "problem_ids": [p.id for p in problems],
    }


def shard_seed(seed: int, ref: DatasetRef, sample_set: int, index: int) -> int:
    """The first set keeps the seeds a run of one set always had; the others draw anew."""
    return (
        derived_seed(seed, ref.key, index) if sample_set == 0 else derived_seed(seed, ref.key, "set", sample_set, index)
    )


def shard_paths(folder: Path, count: int) -> list[Path]:
    return [folder / f"shard-{index:05d}.jsonl" for index in range(count)]


def run_sample(ws: Workspace, on_shard_done=None) -> dict:
    """Sample every set of every dataset of the sample stage; returns per dataset (and set) the counts and
    throughput."""
    from tqdm.auto import tqdm

    stage = ws.recipe.sample
    completer = None
    report = {}
    policy = ws.sample_policy()
    try:
        for ref in stage.datasets:
            problems = ws.problems(ref)
            domain = ws.domain(problems)
            for sample_set in ws.sample_sets():
                folder = ws.samples(ref, sample_set)
                meta = sample_meta(ws, ref, problems, sample_set)
                fingerprint = Fingerprint.of(
                    policy=model_identity(policy),
                    rows=rows_identity(problems),
                    settings={k: v for k, v in meta.items() if k not in ("policy", "problem_ids")},
                )
                key = ref.key + (f" set {sample_set}" if sample_set else "")
                decision = start(folder, fingerprint, f"samples {key}")
                if decision.reuse:
                    report[key] = decision.report()
                    continue
                write_json_atomically(folder / "meta.json", meta)
                chunks = [problems[i : i + stage.chunk_size] for i in range(0, len(problems), stage.chunk_size)]
                shards = shard_paths(folder, len(chunks))
                todo = [i for i, shard in enumerate(shards) if not shard.exists()]
                tokens, seconds = 0, 0.0
                bar = tqdm(
                    total=sum(len(chunks[i]) for i in todo),
                    desc=f"sampling {key} ({stage.samples} per problem)",
                    unit="problem",
                    disable=not todo,
                )
                for index in todo:
                    if completer is None:  # only a run with work to do loads the policy
                        completer = ws.generation_backend(policy, max_new_tokens=stage.max_new_tokens)
                    prompts = [domain.prompt(p) for p in chunks[index]]
                    started = time.perf_counter()
                    greedy = (
                        completer.complete(
                            prompts, n=1, temperature=0.0, max_new_tokens=stage.max_new_tokens, seed=stage.seed
                        )
                        if stage.greedy
                        else None
                    )
                    sampled = completer.complete(
                        prompts,
                        n=stage.samples,
                        temperature=stage.temperature,
                        top_p=stage.top_p,
                        max_new_tokens=stage.max_new_tokens,
                        seed=shard_seed(stage.seed, ref, sample_set, index),
                    )
                    seconds += time.perf_counter() - started
                    counts = getattr(sampled, "token_counts", None) or [[0] * len(s) for s in sampled]
                    greedy_counts = (
                        (getattr(greedy, "token_counts", None) or [[0]] * len(prompts)) if greedy is not None else []
                    )
                    tokens += sum(map(sum, counts)) + sum(map(sum, greedy_counts))
                    rows = [
                        {
                            "id": p.id,
                            "greedy": None if greedy is None else greedy[j][0],
                            "samples": list(sampled[j]),
                            "tokens": list(counts[j]),
                        }
                        for j, p in enumerate(chunks[index])
                    ]
                    tmp = shards[index].with_suffix(".tmp")
                    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
                    tmp.replace(shards[index])
                    bar.update(len(rows))
                    if on_shard_done is not None:
                        on_shard_done(ref, index)
                bar.close()
                record(folder, fingerprint)
                report[key] = {
                    **decision.report(),
                    "problems": len(problems),
                    "samples_per_problem": stage.samples,
                    "shards_generated": len(todo),
                    "shards_reused": len(chunks) - len(todo),
                    "generated_tokens": tokens,
                    "generation_seconds": round(seconds, 1),
                    "tokens_per_second": round(tokens / seconds, 1) if seconds else None,
                }
    finally:
        if completer is not None:
            release(completer)
    return report


def load_samples(ws: Workspace, ref: DatasetRef, sample_set: int = 0) -> tuple[list, list[str | None], list[list[str]]]:
    """The problems, greedy solutions and sampled solutions the sample stage saved for ``ref`` (and ``sample_set``)."""
    problems = ws.problems(ref)
    folder = ws.samples(ref, sample_set)
    chunk = ws.recipe.sample.chunk_size
    shards = shard_paths(folder, (len(problems) + chunk - 1) // chunk)
    missing = [s.name for s in shards if not s.exists()]
    if missing:
        raise DataError(
            f"the sample stage has not finished ({len(missing)} of {len(shards)} shards missing); run --stage sample",
            path=folder,
        )
    greedy, samples = [], []
    for shard in shards:
        for line_number, line in enumerate(shard.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            expected = problems[len(samples)].id
            if row.get("id") != expected:
                raise DataError(
                    f"expected problem {expected!r}, found {row.get('id')!r}", path=shard, line=line_number, field="id"
                )
            greedy.append(row["greedy"])
            samples.append(row["samples"])
    return problems, greedy, samples


def samples_fingerprint(ws: Workspace, ref: DatasetRef, sample_set: int = 0) -> str:
    """A digest of the saved samples (the shards' contents): scores computed on other samples are never reused."""
    from verikit.pipeline.reuse import digest, file_digest

    return digest([(p.name, file_digest(p)) for p in sorted(ws.samples(ref, sample_set).glob("shard-*.jsonl"))])


def smoke_sample(recipe, tiny: str, out: Path) -> dict:
    datasets = [ref.model_copy(update={"limit": min(ref.limit or 3, 3)}) for ref in recipe.sample.datasets]
    return {
        "sample": recipe.sample.model_copy(
            update={
                "datasets": datasets,
                "samples": 4,
                "max_new_tokens": 24,
                "chunk_size": 2,
                "repeats": min(recipe.sample.repeats, 2),
            }
        )
    }


STAGE = Stage(
    run=run_sample,
    section="sample",
    after=("finetune", "rl"),
    smoke=smoke_sample,
    description="greedy and N samples per test problem (the paper: 256, the mean of 3 samplings)",
)
