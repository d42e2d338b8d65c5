"""The reliability figures: every registered answer checker and step splitter against hostile input.

    python -m benchmarks.robustness [--strings 10000] [--seed 2024] [--out out/robustness.json]

For each component: how many adversarial inputs it was given (LaTeX fragments, huge exponents and
factorials, deep nesting, 10,000-digit numbers, unicode, planted code), how many raised, how many ran past
the hang limit, the slowest call and its input; then a 10 MB solution and a 10,000-step solution through
each, with time and peak traced memory. Writes the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import verikit
from verikit.adversarial import adversarial_strings, huge_solution, many_step_solution
from verikit.plugins import get_host
from verikit.robustness import measure_call, probe_checker, probe_splitter

BIG = huge_solution()
MANY_STEPS = many_step_solution()


def _large_inputs(call) -> dict:
    results = {}
    for label, text in (("10MB", BIG), ("10k_steps", MANY_STEPS)):
        measured = measure_call(lambda: call(text))
        results[label] = {
            "seconds": round(measured["seconds"], 3),
            "peak_mb": round(measured["peak_bytes"] / 1e6, 1),
            "error": measured["error"],
        }
    return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strings", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=Path("out/robustness.json"))
    args = parser.parse_args(argv)
    host = get_host()
    strings = adversarial_strings(args.strings, seed=args.seed)
    result: dict = {"strings": args.strings, "seed": args.seed, "checkers": {}, "splitters": {}}
    for kind, probe, make in (
        ("checkers", probe_checker, verikit.answer_checker),
        ("splitters", probe_splitter, verikit.step_splitter),
    ):
        registry = host.registries["answer_checkers" if kind == "checkers" else "step_splitters"]
        for entry in sorted(registry.entries(), key=lambda e: e.name):
            component = make(entry.name)
            started = time.perf_counter()
            report = probe(entry.name, component, strings)
            row = {**report.as_dict(), "plugin": entry.plugin, "total_seconds": round(time.perf_counter() - started, 2)}
            if kind == "checkers":
                row["large"] = _large_inputs(lambda text: component.equivalent(component.extract(text), "42"))
            else:
                row["large"] = _large_inputs(lambda text: component.join(component.split(text)))
            result[kind][entry.name] = row
            print(
                f"{kind[:-1]:<8} {entry.name:<20} inputs {row['inputs']:>6,}  exceptions {row['exceptions']}  "
                f"hangs {row['hangs']}  max {row['max_seconds'] * 1000:8.1f} ms  slowest {row['slowest_input'][:50]}"
            )
            for label, big in row["large"].items():
                print(
                    f"{'':<30}{label:<10} {big['seconds']:6.2f} s  peak {big['peak_mb']:7.1f} MB"
                    + (f"  ERROR {big['error']}" if big["error"] else "")
                )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    failures = sum(r["exceptions"] + r["hangs"] for kind in ("checkers", "splitters") for r in result[kind].values())
    result["failures"] = failures
    print(f"total exceptions and hangs: {failures}; wrote {args.out}")
    return result


def exit_status(result: dict) -> int:
    """1 when any checker or splitter raised or hung (so the benchmark can gate a plugin's CI), else 0."""
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(exit_status(main()))
