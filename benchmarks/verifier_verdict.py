"""Does a base model itself notice a wrong step? Its own verdict, before any reward-model training.

    python -m benchmarks.verifier_verdict --models verifier=DIR[,completer=DIR] [--split dev] [--problems 200]
        [--layout generator|prm] [--out DIR]

On the contrastive pairs of :mod:`verikit_arith.edits` (a correct step against the same step made wrong, after the
same correct prefix), each model reads the pair in its own generator layout (the domain's prompt, steps on
lines; ``--layout prm``: the PRM's text, ``question step ки`` per line, up to the judged step's last token) and
gives the probability that the step's line goes on with :data:`verikit_arith.verifier.CAUGHT_MARKER` — how the
verifier base's checked text marks a caught mistake. The model notices the error when that probability is higher
for the edited step; reported as the share of pairs so ordered (ties half), by position and kind. A base that never
read checked text (the completer) puts no mass there and sits near 0.5. The dev split is the default: the test
split's pairs are the contrastive probe's (``benchmarks.contrastive_probe``). Writes ``verdict.json``,
``verdict.md`` and ``verdict.png``.
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


def layout_text(question: str, steps, layout: str) -> str:
    """The text a base reads up to the judged step's last token, in the generator's layout or the PRM's."""
    from verikit.format import STEP_TAG, prm_input
    from verikit_arith.problems import PROMPT_TEMPLATE

    if layout == "prm":
        return prm_input(question, steps).removesuffix(f" {STEP_TAG}")
    return PROMPT_TEMPLATE.format(question=question) + "\n".join(steps)


def verdicts(model_dir: str, pairs, layout: str = "generator") -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from benchmarks.contrastive_probe import ordering

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    texts = [layout_text(p.question, p.good, layout) for p in pairs]
    texts += [layout_text(p.question, p.bad, layout) for p in pairs]
    marker = marker_probabilities(model, tokenizer, texts)
    # ordering() counts a pair right when the first score is higher: the correct step should be *less* likely caught
    return ordering(pairs, [(1 - marker[i], 1 - marker[len(pairs) + i]) for i in range(len(pairs))])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, help="NAME=DIR,… (causal LMs with the arith tokenizer).")
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--layout", default="generator", choices=("generator", "prm"))
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/verifier_verdict"))
    args = parser.parse_args(argv)
    from verikit_arith.edits import probe_pairs

    models = dict(item.split("=", 1) for item in args.models.split(","))
    pairs = probe_pairs("arith-easy", args.split, limit=args.problems)
    results = {"split": args.split, "layout": args.layout, "pairs": len(pairs), "models": {}}
    for name, folder in models.items():
        results["models"][name] = verdicts(folder, pairs, args.layout)
        row = results["models"][name]
        positions = " ".join(
            f"{k.removeprefix('position_')}:{v['ordered']:.3f}" for k, v in row.items() if k.startswith("position_")
        )
        print(f"{name:<12} all {row['all']['ordered']:.3f}  by position {positions}", flush=True)
    from benchmarks.contrastive_probe import write_outputs

    title = f"The base's own verdict ({args.split} split, {args.layout} layout, {len(pairs)} pairs)"
    write_outputs(results, args.out, title, stem="verdict")
    print(f"wrote {args.out / 'verdict.json'}, verdict.md, verdict.png")
    return results


if __name__ == "__main__":
    main()
