"""Issue-6 figures on the miniature: train PRM (hard), PRM (soft), ORM and the likelihood PRMs, then evaluate.

    python -m benchmarks.reward_models --annotations DIR --base DIR --dev DEV.jsonl --test TEST.jsonl [--out OUT]

``--annotations``: an annotation folder (``verikit annotate``, naive strategy so soft labels exist);
``--dev``/``--test``: ProcessBench rows (``verikit make-processbench``) — the first-error threshold is
chosen on dev and everything is reported on test. Prints the training wall time of the three tag-head
models together (the paper's recipe) and one table of every model's step AUC, solution AUC,
within-problem pairwise AUC and first-error F1; writes ``OUT/prm_eval.json`` and ``OUT/training.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from verikit.components import load_scorer
from verikit.rm.config import PRMConfig
from verikit.rm.data import load_examples
from verikit.rm.evaluation import evaluate_model
from verikit.rm.likelihood import train_likelihood_prm
from verikit.rm.processbench import load_processbench
from verikit.rm.training import train_reward_model


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotations", type=Path, required=True)
    parser.add_argument("--base", required=True, help="Causal LM the reward models start from (e.g. the generator).")
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--domain", default="arith")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--epochs", type=float, default=4.0)
    parser.add_argument("--lm-loss-weight", type=float, default=0.0)
    parser.add_argument("--aggs", default="min,prod")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/reward_models"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    training: dict = {}
    started = time.perf_counter()
    for name, objective, labels in (("prm-hard", "prm", "hard"), ("prm-soft", "prm", "soft"), ("orm", "orm", "hard")):
        config = PRMConfig(
            base=args.base,
            objective=objective,
            labels=labels,
            learning_rate=args.learning_rate,
            epochs=args.epochs,
            lm_loss_weight=args.lm_loss_weight,
        )
        summary = train_reward_model(config, args.annotations, args.out / name)
        training[name] = {
            "seconds": summary["train_seconds"],
            "examples": summary["examples"],
            "loss": summary["train_loss"],
        }
    tag_heads_seconds = time.perf_counter() - started
    for labels in ("hard", "soft"):
        summary = train_likelihood_prm(
            args.base,
            load_examples(args.annotations, "prm", labels),
            args.out / f"likelihood-{labels}",
            domain=args.domain,
        )
        training[f"likelihood-{labels}"] = {"seconds": summary["train_seconds"], "examples": summary["examples"]}
    training["tag_heads_total_seconds"] = round(tag_heads_seconds, 1)

    dev, test = load_processbench(args.dev), load_processbench(args.test)
    results: dict = {}
    for name in ("prm-hard", "prm-soft", "orm", "likelihood-hard", "likelihood-soft"):
        scorer = load_scorer(args.out / name)
        for agg in args.aggs.split(","):
            results[f"{name}/{agg}"] = evaluate_model(scorer, dev, test, agg=agg)
    print(
        f"\ntag-head PRM (hard), PRM (soft) and ORM trained in {tag_heads_seconds / 60:.1f} min together "
        f"({training['prm-hard']['examples']} solutions, base {args.base})"
    )
    print(f"{'model/agg':<22} {'step AUC':>8} {'sol AUC':>8} {'pairwise':>8} {'FE F1':>7} {'err acc':>7} {'ok acc':>7}")
    for name, r in results.items():
        cells = [
            r["step_auc"],
            r["solution_auc"],
            r["pairwise_auc"],
            r["first_error_f1"],
            r["acc_erroneous"],
            r["acc_correct"],
        ]
        print(f"{name:<22} " + " ".join(f"{'n/a' if c is None else f'{c:.3f}':>8}" for c in cells))
    (args.out / "training.json").write_text(json.dumps(training, indent=2) + "\n")
    (args.out / "prm_eval.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out / 'prm_eval.json'} and {args.out / 'training.json'}")
    return results


if __name__ == "__main__":
    main()
