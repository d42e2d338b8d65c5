"""Does any change to the paper's tag-head PRM recipe lift it on the miniature? One table, side by side.

    python -m benchmarks.tag_head_ablation --annotations DIR --base DIR --dev DEV.jsonl --test TEST.jsonl \
        [--variants paper,lr3e-4,lm-loss,untied,deeper2] [--out OUT]

Each variant trains a hard-label tag-head PRM from ``--base`` on the same annotation folder and is scored
on the same ProcessBench-style rows (threshold chosen on dev, figures on test): step AUC, solution AUC,
within-problem pairwise AUC and first-error F1. The variants are the levers DESIGN.md names for a
verifier that "keeps what the base knows": learning rate, the LM loss kept, an output layer untied from
the input embeddings (``+``/``-`` are operators the model reads), and extra identity-initialised layers
(so each tag can read the base's final-layer states; see ``verikit.rm.surgery``). Run it on a larger
annotation folder to see the effect of data. Writes ``OUT/tag_head_ablation.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from verikit.components import load_scorer
from verikit.rm.config import PRMConfig
from verikit.rm.evaluation import evaluate_model
from verikit.rm.processbench import load_processbench
from verikit.rm.training import train_reward_model

VARIANTS = {
    "paper": {},
    "lr3e-4": {"learning_rate": 3e-4, "epochs": 6},
    "lr3e-3": {"learning_rate": 3e-3},
    "lm-loss": {"lm_loss_weight": 1.0},
    "untied": {"untie_embeddings": True},
    "deeper2": {"extra_layers": 2},
    "soft": {"labels": "soft"},
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotations", type=Path, required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--variants", default="paper,lm-loss,untied,deeper2")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Unless the variant sets its own.")
    parser.add_argument("--epochs", type=float, default=4.0, help="Unless the variant sets its own.")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/tag_head_ablation"))
    args = parser.parse_args(argv)
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    dev, test = load_processbench(args.dev), load_processbench(args.test)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    for name in args.variants.split(","):
        settings = {"learning_rate": args.learning_rate, "epochs": args.epochs} | VARIANTS[name]
        started = time.perf_counter()
        summary = train_reward_model(
            PRMConfig(base=args.base, objective="prm", **settings), args.annotations, args.out / name, progress=False
        )
        scorer = load_scorer(args.out / name)
        results[name] = evaluate_model(scorer, dev, test) | {
            "settings": settings,
            "examples": summary["examples"],
            "minutes": round((time.perf_counter() - started) / 60, 2),
        }
        cells = "  ".join(
            f"{label} {'n/a' if results[name][key] is None else format(results[name][key], '.3f')}"
            for label, key in (
                ("step AUC", "step_auc"),
                ("solution AUC", "solution_auc"),
                ("pairwise", "pairwise_auc"),
                ("first-error F1", "first_error_f1"),
            )
        )
        print(f"{name:<10} {cells}  ({results[name]['minutes']:.1f} min)", flush=True)
    (args.out / "tag_head_ablation.json").write_text(
        json.dumps({"annotations": str(args.annotations), "base": args.base, "variants": results}, indent=2) + "\n"
    )
    print(f"wrote {args.out / 'tag_head_ablation.json'}")
    return results


if __name__ == "__main__":
    main()
