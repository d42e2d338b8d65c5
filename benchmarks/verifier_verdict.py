"""Does a base model itself notice a wrong step? Its own verdict, before any reward-model training.

    python -m benchmarks.verifier_verdict --models verifier=DIR[,completer=DIR] [--split dev] [--problems 200]
        [--layout generator|prm] [--run out/demo/arith-easy [--dev-problems 300]] [--out DIR]

On the contrastive pairs of :mod:`verikit_arith.edits` (a correct step against the same step made wrong, after the
same correct prefix), each model reads the pair in its own generator layout (the domain's prompt, steps on
lines; ``--layout prm``: the PRM's text, ``question step ки`` per line, up to the judged step's last token) and
gives the probability that the step's line goes on with :data:`verikit_arith.verifier.CAUGHT_MARKER` — how the
verifier base's checked text marks a caught mistake. The model notices the error when that probability is higher
for the edited step; reported as the share of pairs so ordered (ties half), by position and kind. A base that never
read checked text (the completer) puts no mass there and sits near 0.5. The dev split is the default: the test
split's pairs are the contrastive probe's (``benchmarks.contrastive_probe``). Writes ``verdict.json``,
``verdict.md`` and ``verdict.png``.

``--run DIR`` (a demo run) also uses each base's verdict as a step score, min-aggregated, on that run's policy's
dev samples (300 problems x 32, cached in ``--out``): the within-problem pairwise AUC, step AUC against exact labels,
best-of-32 and self-consistency — how far a PRM that only read out its base's verdict would go.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def marker_probabilities(model, tokenizer, texts: list[str], batch_size: int = 256) -> list[float]:
    """P(the marker's first token) right after each text (left-padded batches)."""
    import torch

    from verikit_arith.verifier import CAUGHT_MARKER

    marker = tokenizer(CAUGHT_MARKER, add_special_tokens=False)["input_ids"][0]
    tokenizer.padding_side = "left"
    result = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start : start + batch_size], return_tensors="pt", padding=True)
        with torch.no_grad():
            logits = model(**batch).logits[:, -1]
        result += torch.softmax(logits.float(), -1)[:, marker].tolist()
    return result


def layout_text(question: str, steps, layout: str, tagged: bool = False) -> str:
    """The text a base reads up to where its checked text would mark the judged step: in the generator's layout
    or the PRM's, up to the step's last token, or (``tagged``: a base whose checked text was in the PRM's layout)
    up to the step tag after it."""
    from verikit.format import STEP_TAG, prm_input
    from verikit_arith.problems import PROMPT_TEMPLATE

    if layout == "prm":
        text = prm_input(question, steps)
        return text if tagged else text.removesuffix(f" {STEP_TAG}")
    return PROMPT_TEMPLATE.format(question=question) + "\n".join(steps)


def marks_after_tag(model_dir: str) -> bool:
    """Whether ``model_dir`` is a verifier base whose checked text put the marker after the step tag."""
    import json

    summary = Path(model_dir) / "verikit_verifier.json"
    return summary.exists() and json.loads(summary.read_text())["config"].get("layout") == "prm"


class VerdictScorer:
    """A base's own verdict as a step scorer: 1 - P(the caught marker) where its checked text would put it, each
    step read after the same prefix of its solution (what :func:`verikit.rm.scorer.score_unique` calls)."""

    def __init__(self, model_dir: str, layout: str):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        self.layout, self.tagged = layout, marks_after_tag(model_dir)

    def caught(self, texts: list[str]) -> list[float]:
        """P(the caught marker) right after each text."""
        return marker_probabilities(self.model, self.tokenizer, texts)

    def score(self, questions: list[str], solutions: list[list[str]]) -> list[list[float]]:
        texts = [
            layout_text(q, steps[: k + 1], self.layout, self.tagged)
            for q, steps in zip(questions, solutions)
            for k in range(len(steps))
        ]
        unique = sorted(set(texts), key=len)  # similar lengths batch together; prefixes repeat across samples
        caught = dict(zip(unique, self.caught(unique)))
        scores, position = [], 0
        for steps in solutions:
            scores.append([1 - caught[t] for t in texts[position : position + len(steps)]])
            position += len(steps)
        return scores


def policy_selection(scorer, rows: list[dict]) -> dict:
    """Best-of-N (min over steps) and self-consistency on the policy's dev samples, with the pairwise and step AUC
    of :func:`benchmarks.tag_head_study.verification_figures` from the same scores."""
    from collections import Counter

    import verikit
    from benchmarks.tag_head_study import verification_figures
    from verikit.rm.scorer import score_unique

    checker = verikit.answer_checker("arith")
    readable = [r for r in rows if r["steps"]]
    scores = score_unique(scorer, [r["question"] for r in readable], [r["steps"] for r in readable])
    by_problem: dict[int, list] = {}
    for row, steps in zip(readable, scores):
        answer = checker.extract("\n".join(row["steps"]))
        by_problem.setdefault(row["problem"], []).append((min(steps), row["correct"], answer))
    # the first sample with the highest score: a tie is never broken by looking at which sample is correct
    best = sum(max(samples, key=lambda sample: sample[0])[1] for samples in by_problem.values())
    voted = 0
    for samples in by_problem.values():
        votes = Counter(a for _, _, a in samples if a is not None)
        right = {a for _, correct, a in samples if correct}
        voted += bool(votes) and votes.most_common(1)[0][0] in right
    return {
        **verification_figures(readable, scores),
        "problems": len(by_problem),
        "best_of_n": round(best / len(by_problem), 4),
        "self_consistency": round(voted / len(by_problem), 4),
        "pass_at_n": round(sum(any(c for _, c, _ in s) for s in by_problem.values()) / len(by_problem), 4),
    }


def verdicts(scorer: VerdictScorer, pairs) -> dict:
    """How often ``scorer``'s base marks the edited step of a contrastive pair as caught more than the correct one."""
    from benchmarks.contrastive_probe import ordering

    texts = [layout_text(p.question, p.good, scorer.layout, scorer.tagged) for p in pairs]
    texts += [layout_text(p.question, p.bad, scorer.layout, scorer.tagged) for p in pairs]
    marker = scorer.caught(texts)
    # ordering() counts a pair right when the first score is higher: the correct step should be *less* likely caught
    return ordering(pairs, [(1 - marker[i], 1 - marker[len(pairs) + i]) for i in range(len(pairs))])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, help="NAME=DIR,… (causal LMs with the arith tokenizer).")
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--layout", default="generator", choices=("generator", "prm"))
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/verifier_verdict"))
    parser.add_argument(
        "--run",
        type=Path,
        default=None,
        help="A demo run folder: also use each base's verdict as a PRM on its policy's dev samples (N x 32).",
    )
    parser.add_argument("--dev-problems", type=int, default=300, help="Dev problems of --run's samples (x 32).")
    args = parser.parse_args(argv)
    from verikit_arith.edits import probe_pairs

    models = dict(item.split("=", 1) for item in args.models.split(","))
    pairs = probe_pairs("arith-easy", args.split, limit=args.problems)
    results = {"split": args.split, "layout": args.layout, "pairs": len(pairs), "models": {}}
    dev_rows = None
    if args.run is not None:
        from benchmarks.tag_head_study import policy_dev_samples

        dev_rows = policy_dev_samples(args.run, args.out, args.dev_problems)
    for name, folder in models.items():
        scorer = VerdictScorer(folder, args.layout)
        results["models"][name] = verdicts(scorer, pairs)
        row = results["models"][name]
        positions = " ".join(
            f"{k.removeprefix('position_')}:{v['ordered']:.3f}" for k, v in row.items() if k.startswith("position_")
        )
        print(f"{name:<12} all {row['all']['ordered']:.3f}  by position {positions}", flush=True)
        if dev_rows is not None:
            row["policy_dev"] = policy_selection(scorer, dev_rows)
            dev = row["policy_dev"]
            print(
                f"{'':<12} as a PRM on the policy's dev samples: pairwise AUC {dev['pairwise_auc']}, step AUC "
                f"{dev['step_auc']}, best-of-32 {dev['best_of_n']} (SC {dev['self_consistency']}, "
                f"pass@32 {dev['pass_at_n']})",
                flush=True,
            )
    from benchmarks.contrastive_probe import write_outputs

    title = f"The base's own verdict ({args.split} split, {args.layout} layout, {len(pairs)} pairs)"
    write_outputs(results, args.out, title, stem="verdict")
    print(f"wrote {args.out / 'verdict.json'}, verdict.md, verdict.png")
    return results


if __name__ == "__main__":
    main()
