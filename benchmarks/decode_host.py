"""Host time per decoding step of the buffered sampling loop, with a tiny model at 1,024 rows, on this code and on
another revision's, side by side in one run.

    python -m benchmarks.decode_host [--baseline HEAD~1] [--rows 1024] [--repeats 3] [--out out/benchmarks/decode_host]

With a model this small (Mistral, hidden 32, 2 layers) the device work of a step is negligible, so a step's wall
time is what the host spends on it: the Python of the loop and of the model's forward, and the launches of its
tensor operations - on a GPU this is what leaves the device idle (issue 36: ~50 ms of host for ~2.5 ms of GPU work
per step at 1.1B). A step's time is measured as the difference of two completions of the same prompts, 64 and 4 new
tokens (EOS suppressed, so every row decodes every step), divided by the 60 extra steps; prefill, tokenizing and
decoding the text cancel out. Each side runs in its own subprocess, alternated over ``--repeats``; with
``--baseline REV`` the other side is ``git archive REV`` on ``PYTHONPATH``. Both sides must sample the same tokens
(checked). Writes ``decode_host.json`` and ``decode_host.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

#: one side's timing, run in a subprocess on that side's code
SCRIPT = """
import json, sys, time
import torch
import verikit
from verikit.tiny_models import build_tiny_causal_lm
model, rows, n = sys.argv[1], int(sys.argv[2]), 8
torch.set_num_threads(int(sys.argv[3]))
completer = verikit.completer("transformers", model=model, batch_size=rows)
completer.tokenizer.eos_token_id = None  # no row stops: every row decodes every step
prompts = [f"Question: Double {k}.\\nSteps:\\n" for k in range(rows // n)]
def run(tokens):
    started = time.perf_counter()
    out = completer.complete(prompts, n=n, temperature=1.0, max_new_tokens=tokens, seed=0)
    return time.perf_counter() - started, out
run(4)
short, _ = run(4)
long, out = run(64)
print(json.dumps({"seconds_per_step": (long - short) / 60, "samples": [list(s) for s in out][:4]}))
"""


def side(model: Path, rows: int, threads: int, pythonpath: str | None) -> dict:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model), str(rows), str(threads)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    if done.returncode != 0:
        raise SystemExit(f"a timing run failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.decode_host",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--baseline", metavar="REV", help="Also time git revision REV's code.")
    parser.add_argument("--rows", type=int, default=1024, help="Sequences decoded together (prompts x 8).")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of each side.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/decode_host"))
    args = parser.parse_args(argv)
    from benchmarks.annotation_throughput import extract_revision, revision_pythonpath
    from verikit.tiny_models import build_tiny_causal_lm

    scratch = Path(tempfile.mkdtemp(prefix="verikit-decode-host-"))
    try:
        texts = [f"Question: Double {k}.\nSteps:\n{k} + {k} = {2 * k}\nThe answer is {2 * k}." for k in range(300)]
        model = build_tiny_causal_lm(scratch / "tiny", texts, vocab_size=300)
        sides: dict[str, str | None] = {"this code": None}
        if args.baseline:
            sides[f"revision {args.baseline}"] = revision_pythonpath(extract_revision(args.baseline, scratch))
        runs: dict[str, list[dict]] = {name: [] for name in sides}
        for repeat in range(args.repeats):
            for name in list(sides) if repeat % 2 == 0 else list(reversed(sides)):
                runs[name].append(side(model, args.rows, args.threads, sides[name]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {"rows": args.rows, "threads": args.threads, "repeats": args.repeats, "sides": {}}
    for name, timings in runs.items():
        steps = [t["seconds_per_step"] for t in timings]
        result["sides"][name] = {
            "ms_per_step": [round(1000 * s, 2) for s in steps],
            "ms_per_step_median": round(1000 * statistics.median(steps), 2),
        }
    if args.baseline:
        base, this = result["sides"][f"revision {args.baseline}"], result["sides"]["this code"]
        result["speedup"] = round(base["ms_per_step_median"] / this["ms_per_step_median"], 2)
        result["same_samples"] = runs["this code"][0]["samples"] == runs[f"revision {args.baseline}"][0]["samples"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "decode_host.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| code | host ms per decoding step (median; runs) |", "|---|---|"]
    for name, figures in result["sides"].items():
        lines.append(f"| {name} | {figures['ms_per_step_median']} ({', '.join(map(str, figures['ms_per_step']))}) |")
    if args.baseline:
        lines.append(f"\nspeed-up {result['speedup']}x at {args.rows} rows; same samples: {result['same_samples']}")
    (args.out / "decode_host.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
