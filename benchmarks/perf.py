"""Where the time goes, measured side by side in one run on this machine; prints ratios, writes JSON.

    python -m benchmarks.perf --model DIR [--prm DIR] [--sections completion,scoring,annotation,ray,serve] [--out F]

``--model``: the arith generator/completer (e.g. ``out/completer-arith-easy``); ``--prm``: a PRM folder
(default: the model itself, read with the released convention — speed does not depend on training).

* completion — n=8 rollouts from every prefix (1..7 steps) of 7-step arith-hard solutions (the preset's longest): one
prompt at
  a time with plain ``generate`` (the naive loop), the batched completer, and the batched completer with
  prefix KV reuse; greedy outputs must be identical, then the same with sampling (temperature 1).
* scoring — one-pass vs per-prefix PRM scoring (``benchmarks.scoring``).
* annotation — rollouts and rollout tokens per solution and annotated solutions per minute for naive,
  early-exit and binary-search on the same solutions.
* ray — the same annotation with 2 Ray workers vs 1 process (Ray start-up and model loading included).
* serve — 200 requests, 16 at a time, to ``verikit serve`` on loopback: errors, p50/p95 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import verikit

SECTIONS = ("completion", "scoring", "annotation", "ray", "serve")


def step_prefixes(problems: int, steps: int = 7) -> list[str]:
    """Every prefix (1..steps lines) of canonical ``steps``-step arith-hard solutions, as completer prompts."""
    from benchmarks.scoring import solutions_with_steps

    domain = verikit.domain("arith")
    questions, solutions = solutions_with_steps(problems, steps)
    prompts = []
    for question, solution in zip(questions, solutions):
        prompt = domain.prompt_template.format(question=question)
        prompts += [prompt + "\n".join(solution[:k]) + "\n" for k in range(1, steps + 1)]
    return prompts


def completion(model: str, problems: int, n: int = 8) -> dict:
    from verikit.completers.transformers import TransformersCompleter

    prompts = step_prefixes(problems)
    stop, tokens = ["\n"], 24
    naive = TransformersCompleter(model, device="cpu", batch_size=1, cache_implementation=None)
    batched = TransformersCompleter(model, device="cpu", batch_size=512)
    reuse = TransformersCompleter(model, device="cpu", batch_size=512, prefix_cache=True)
    for completer in (naive, batched, reuse):  # warm-up
        completer.complete(prompts[:2], n=2, temperature=0, max_new_tokens=4)
    result: dict = {"prompts": len(prompts), "n": n, "steps_per_prefix": "1..7"}
    for label, temperature in (("greedy", 0.0), ("sampled", 1.0)):
        started = time.perf_counter()
        one_at_a_time = [
            [
                naive.complete([p], n=1, temperature=temperature, max_new_tokens=tokens, stop=stop, seed=j)[0][0]
                for j in range(n)
            ]
            for p in prompts
        ]
        naive_s = time.perf_counter() - started
        timings, outputs = {}, {}
        for name, completer in (("batched", batched), ("prefix_reuse", reuse)):
            started = time.perf_counter()
            outputs[name] = completer.complete(
                prompts, n=n, temperature=temperature, max_new_tokens=tokens, stop=stop, seed=0
            )
            timings[name] = time.perf_counter() - started
        row = {
            "one_at_a_time_s": naive_s,
            **{f"{k}_s": v for k, v in timings.items()},
            "prefix_reuse_vs_one_at_a_time": naive_s / timings["prefix_reuse"],
            "prefix_reuse_vs_batched": timings["batched"] / timings["prefix_reuse"],
            "prompt_tokens_encoded": reuse.prompt_tokens_encoded,
            "prompt_tokens_reused": reuse.prompt_tokens_reused,
        }
        if label == "greedy":
            row["identical_outputs"] = outputs["prefix_reuse"] == one_at_a_time == outputs["batched"]
        result[label] = row
        print(
            f"completion ({label}, {len(prompts)} prefixes × n={n}): one prompt at a time {naive_s:.1f}s, "
            f"batched {timings['batched']:.1f}s, batched + prefix KV reuse {timings['prefix_reuse']:.1f}s → "
            f"{row['prefix_reuse_vs_one_at_a_time']:.1f}× vs one at a time, {row['prefix_reuse_vs_batched']:.2f}× vs "
            f"batched" + (f"; identical greedy outputs: {row['identical_outputs']}" if label == "greedy" else "")
        )
    return result


def scoring(prm: str, out: Path) -> dict:
    from benchmarks.scoring import main as scoring_main

    return scoring_main(
        ["--model", prm, "--solutions", "32", "--batch-sizes", "1,16", "--out", str(out / "perf_scoring.json")]
    )


def _annotation_config(model: str, strategy: str, problems: int):
    from verikit.annotation.config import AnnotationConfig

    return AnnotationConfig(
        dataset="arith-easy",
        split="dev",
        limit=problems,
        generator=model,
        samples_per_problem=4,
        n_rollouts=8,
        strategy=strategy,
        rollout_temperature=0.7,
        max_new_tokens=160,
        device="cpu",
        chunk_size=4,
        deduplicate=False,
    )


def annotation(model: str, problems: int, scratch: Path) -> dict:
    from verikit.annotation.driver import annotate

    result = {}
    for strategy in ("naive", "early-exit", "binary-search"):
        summary = annotate(
            _annotation_config(model, strategy, problems), scratch / f"annotation-{strategy}", progress=False
        )
        per = max(1, summary.solutions)
        result[strategy] = {
            "solutions": summary.solutions,
            "seconds": summary.seconds,
            "rollouts_per_solution": summary.rollouts_generated / per,
            "rollout_tokens_per_solution": summary.rollout_tokens / per,
            "solutions_per_minute": 60 * summary.solutions / summary.seconds,
        }
        print(
            f"annotation {strategy:>13}: {result[strategy]['rollouts_per_solution']:6.1f} rollouts and "
            f"{result[strategy]['rollout_tokens_per_solution']:7.0f} tokens per solution, "
            f"{result[strategy]['solutions_per_minute']:.0f} solutions/min"
        )
    base = result["naive"]
    for strategy in ("early-exit", "binary-search"):
        result[strategy]["rollout_ratio_vs_naive"] = (
            result[strategy]["rollouts_per_solution"] / base["rollouts_per_solution"]
        )
    return result


def ray_vs_local(model: str, problems: int, scratch: Path) -> dict:
    from verikit.annotation.distributed import annotate_with_ray
    from verikit.annotation.driver import annotate

    config = _annotation_config(model, "early-exit", problems)
    started = time.perf_counter()
    annotate(config, scratch / "local", progress=False)
    local_s = time.perf_counter() - started
    started = time.perf_counter()
    annotate_with_ray(config, scratch / "ray", workers=2, progress=False)
    ray_s = time.perf_counter() - started
    same = {r["key"]: r["hard_labels"] for r in verikit.load_annotations(scratch / "local")} == {
        r["key"]: r["hard_labels"] for r in verikit.load_annotations(scratch / "ray")
    }
    print(
        f"ray: 1 process {local_s:.1f}s, 2 Ray workers {ray_s:.1f}s → {local_s / ray_s:.2f}× "
        f"(start-up and model loading included); same labels: {same}"
    )
    return {"local_s": local_s, "ray_2_workers_s": ray_s, "speedup": local_s / ray_s, "same_labels": same}


def serve_load(model: str, prm: str, requests: int = 200, concurrency: int = 16) -> dict:
    import httpx

    from verikit.components import load_scorer
    from verikit.serve import ServeLimits, create_app
    from verikit.serve_harness import BackgroundServer

    app = create_app(
        verikit.completer("transformers", model=model, device="cpu"),
        load_scorer(prm),
        model_name="perf",
        limits=ServeLimits(max_queue=requests),
    )
    prompts = step_prefixes(4)

    async def run(url):
        latencies, errors = [], 0
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=120) as client:

            async def one(i):
                nonlocal errors
                async with gate:
                    started = time.perf_counter()
                    if i % 2:
                        body = {
                            "prompt": prompts[i % len(prompts)],
                            "n": 2,
                            "max_tokens": 24,
                            "stop": ["\n"],
                            "seed": i,
                        }
                        response = await client.post(url + "/v1/completions", json=body)
                    else:
                        body = {
                            "items": [
                                {
                                    "question": "7+3*4-2=?",
                                    "steps": [
                                        "Step 1: 3*4=12",
                                        "Step 2: 7+12=19",
                                        "Step 3: 19-2=17",
                                        "The answer is 17",
                                    ],
                                }
                            ]
                        }
                        response = await client.post(url + "/v1/score", json=body)
                    latencies.append(time.perf_counter() - started)
                    errors += response.status_code != 200

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(requests)))
            return latencies, errors, time.perf_counter() - started

    with BackgroundServer(app) as url:
        latencies, errors, wall = asyncio.run(run(url))
    quantiles = statistics.quantiles(latencies, n=20)
    result = {
        "requests": requests,
        "concurrency": concurrency,
        "errors": errors,
        "p50_s": statistics.median(latencies),
        "p95_s": quantiles[18],
        "max_s": max(latencies),
        "requests_per_s": requests / wall,
    }
    print(
        f"serve: {requests} requests ({concurrency} concurrent, half completions n=2, half PRM scores): "
        f"{errors} errors, p50 {result['p50_s'] * 1000:.0f} ms, p95 {result['p95_s'] * 1000:.0f} ms, "
        f"{result['requests_per_s']:.1f} requests/s"
    )
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--prm", default=None)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--problems", type=int, default=4, help="7-step solutions for the completion section.")
    parser.add_argument("--annotation-problems", type=int, default=16)
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/perf.json"))
    args = parser.parse_args(argv)
    sections = args.sections.split(",")
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    prm = args.prm or args.model
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="verikit-perf-"))
    result: dict = {"model": args.model, "prm": prm}
    try:
        if "completion" in sections:
            result["completion"] = completion(args.model, args.problems)
        if "scoring" in sections:
            result["scoring"] = scoring(prm, args.out.parent)
        if "annotation" in sections:
            result["annotation"] = annotation(args.model, args.annotation_problems, scratch)
        if "ray" in sections:
            result["ray"] = ray_vs_local(args.model, args.annotation_problems, scratch)
        if "serve" in sections:
            result["serve"] = serve_load(args.model, prm)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
