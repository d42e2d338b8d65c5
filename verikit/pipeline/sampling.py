"""The sample stage: greedy and N sampled solutions per problem from the policy, saved in resumable shards.

Problems are cut into shards of ``chunk_size`` in dataset order; each shard is generated with a seed derived
from the recipe's seed, the dataset and the shard's index, and written atomically once done. A killed run
therefore resumes at the first missing shard and produces the very samples an uninterrupted run would. The
shard folder's ``meta.json`` records what the samples depend on (policy, prompt template, settings,
problem ids); a run whose settings differ starts the folder over instead of mixing two runs' samples.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from verikit.annotation.driver import derived_seed
from verikit.errors import DataError
from verikit.pipeline.recipe import DatasetRef
from verikit.pipeline.workspace import Workspace, release, write_json_atomically


def sample_meta(ws: Workspace, ref: DatasetRef, problems: list) -> dict:
    stage = ws.recipe.sample
    domain = ws.domain(problems)
    settings = stage.model_dump(exclude={"datasets"})
    return {"policy": ws.model("policy"), "backend": ws.recipe.backend.model_dump(), "prompt_template": domain.prompt_template,
            "settings": settings, "problem_ids": [p.id for p in problems]}


def shard_paths(folder: Path, count: int) -> list[Path]:
    return [folder / f"shard-{index:05d}.jsonl" for index in range(count)]


def run_sample(ws: Workspace, on_shard_done=None) -> dict:
    """Sample every dataset of the recipe's sample stage; returns per dataset the counts and throughput."""
    from tqdm.auto import tqdm

    stage = ws.recipe.sample
    completer = None
    report = {}
    try:
        for ref in stage.datasets:
            problems = ws.problems(ref)
            domain = ws.domain(problems)
            folder = ws.samples(ref)
            meta = sample_meta(ws, ref, problems)
            meta_path = folder / "meta.json"
            if meta_path.exists() and json.loads(meta_path.read_text()) != meta:
                print(f"   {folder}: samples of other settings; sampling again", flush=True)
                shutil.rmtree(folder)
            write_json_atomically(meta_path, meta)
            chunks = [problems[i:i + stage.chunk_size] for i in range(0, len(problems), stage.chunk_size)]
            shards = shard_paths(folder, len(chunks))
            todo = [i for i, shard in enumerate(shards) if not shard.exists()]
            tokens, seconds = 0, 0.0
            bar = tqdm(total=sum(len(chunks[i]) for i in todo), desc=f"sampling {ref.key} ({stage.samples} per problem)",
                       unit="problem", disable=not todo)
            for index in todo:
                if completer is None:  # only a run with work to do loads the policy
                    completer = ws.generation_backend(ws.model("policy"), max_new_tokens=stage.max_new_tokens)
                prompts = [domain.prompt(p) for p in chunks[index]]
                started = time.perf_counter()
                greedy = completer.complete(prompts, n=1, temperature=0.0, max_new_tokens=stage.max_new_tokens,
                                            seed=stage.seed) if stage.greedy else None
                sampled = completer.complete(prompts, n=stage.samples, temperature=stage.temperature, top_p=stage.top_p,
                                             max_new_tokens=stage.max_new_tokens,
                                             seed=derived_seed(stage.seed, ref.key, index))
                seconds += time.perf_counter() - started
                counts = getattr(sampled, "token_counts", None) or [[0] * len(s) for s in sampled]
                greedy_counts = (getattr(greedy, "token_counts", None) or [[0]] * len(prompts)) if greedy is not None else []
                tokens += sum(map(sum, counts)) + sum(map(sum, greedy_counts))
                rows = [{"id": p.id, "greedy": None if greedy is None else greedy[j][0], "samples": list(sampled[j]),
                         "tokens": list(counts[j])} for j, p in enumerate(chunks[index])]
                tmp = shards[index].with_suffix(".tmp")
                tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
                tmp.replace(shards[index])
                bar.update(len(rows))
                if on_shard_done is not None:
                    on_shard_done(ref, index)
            bar.close()
            report[ref.key] = {"problems": len(problems), "samples_per_problem": stage.samples, "shards_generated": len(todo),
                               "shards_reused": len(chunks) - len(todo), "generated_tokens": tokens,
                               "generation_seconds": round(seconds, 1),
                               "tokens_per_second": round(tokens / seconds, 1) if seconds else None}
    finally:
        if completer is not None:
            release(completer)
    return report


def load_samples(ws: Workspace, ref: DatasetRef) -> tuple[list, list[str | None], list[list[str]]]:
    """The problems, greedy solutions and sampled solutions the sample stage saved for ``ref``."""
    problems = ws.problems(ref)
    folder = ws.samples(ref)
    chunk = ws.recipe.sample.chunk_size
    shards = shard_paths(folder, (len(problems) + chunk - 1) // chunk)
    missing = [s.name for s in shards if not s.exists()]
    if missing:
        raise DataError(f"the sample stage has not finished ({len(missing)} of {len(shards)} shards missing); "
                        "run --stage sample", path=folder)
    greedy, samples = [], []
    for shard in shards:
        for line_number, line in enumerate(shard.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            expected = problems[len(samples)].id
            if row.get("id") != expected:
                raise DataError(f"expected problem {expected!r}, found {row.get('id')!r}", path=shard, line=line_number,
                                field="id")
            greedy.append(row["greedy"])
            samples.append(row["samples"])
    return problems, greedy, samples


def samples_fingerprint(ws: Workspace, ref: DatasetRef) -> str:
    """A hash of the saved samples: scores computed on other samples are never reused."""
    import hashlib

    digest = hashlib.sha256()
    for shard in sorted(ws.samples(ref).glob("shard-*.jsonl")):
        digest.update(shard.read_bytes())
    return digest.hexdigest()[:16]
