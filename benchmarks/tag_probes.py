"""Where in a model does "this step is right" live? Linear probes on hidden states, per layer and position.

    python -m benchmarks.tag_probes --models completer=DIR,prm=DIR [--problems 500] [--out DIR]

On the contrastive pairs of :mod:`verikit_arith.edits` (dev split: a correct step and the same step made wrong,
after the same correct prefix), a logistic regression is fitted on the hidden state of half the problems' pairs
and judged on the other half's: the share of held-out pairs whose correct step it scores above the edited one
(0.5: the state carries nothing a linear read can use). Positions, in the PRM's text (``question step ки``): the
tag itself, the token before it, the step's last token; and in the generator's own layout (the domain's prompt,
steps on lines): the newline that ends the step, where a generator would start the next one. Layer 0 is the
embeddings. Writes ``tag_probes.json``, ``tag_probes.md`` and ``tag_probes.png``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

POSITIONS = ("tag", "before-tag", "step-end", "newline (generator layout)")


def texts_and_offsets(pair_steps, question: str, prompt_template: str) -> list[tuple[str, int]]:
    """The PRM text (read at its last three tokens) and the generator-layout text (read at its last token)."""
    from verikit.format import prm_input

    return [
        (prm_input(question, pair_steps), 0),
        (prm_input(question, pair_steps), 1),
        (prm_input(question, pair_steps), 2),
        (prompt_template.format(question=question) + "\n".join(pair_steps) + "\n", 0),
    ]


def hidden_states(model, tokenizer, texts: list[str], back: int, batch_size: int = 256):
    """``[text, layer, hidden]``: each text's state ``back`` tokens before its last, at every layer."""
    import numpy as np
    import torch

    rows = []
    for start in range(0, len(texts), batch_size):
        encoded = [tokenizer(t)["input_ids"] for t in texts[start : start + batch_size]]
        from verikit.rm.data import padding_id, right_padded

        ids, mask = right_padded(encoded, padding_id(tokenizer))
        with torch.inference_mode():
            states = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        last = mask.sum(1) - 1 - back
        picked = torch.stack([layer[torch.arange(len(encoded)), last] for layer in states], dim=1)
        rows.append(picked.float().numpy())
    return np.concatenate(rows)


def probe_accuracy(good, bad, train_mask) -> float:
    """Held-out pair ordering of a logistic probe fitted on the training pairs' states (good 1, edited 0)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    features = np.concatenate([good[train_mask], bad[train_mask]])
    labels = np.r_[np.ones(train_mask.sum()), np.zeros(train_mask.sum())]
    scaler = StandardScaler().fit(features)
    probe = LogisticRegression(max_iter=2000).fit(scaler.transform(features), labels)
    g = probe.decision_function(scaler.transform(good[~train_mask]))
    b = probe.decision_function(scaler.transform(bad[~train_mask]))
    return float(((g > b) + 0.5 * (g == b)).mean())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", required=True, help="NAME=PATH,… causal LMs (a generator, a tag-head PRM …).")
    parser.add_argument("--preset", default="arith-easy")
    parser.add_argument("--problems", type=int, default=500, help="Dev problems whose pairs are probed.")
    parser.add_argument("--out", type=Path, default=Path("out/benchmarks/tag_probes"))
    args = parser.parse_args(argv)
    import numpy as np
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from verikit.models import load_pretrained
    from verikit_arith.edits import probe_pairs
    from verikit_arith.problems import PROMPT_TEMPLATE

    pairs = probe_pairs(args.preset, "dev", limit=args.problems)
    questions = sorted({p.question for p in pairs})
    random.Random(0).shuffle(questions)
    fitted_on = set(questions[: len(questions) // 2])
    train_mask = np.array([p.question in fitted_on for p in pairs])
    results: dict = {"preset": args.preset, "pairs": len(pairs), "models": {}}
    for item in args.models.split(","):
        name, path = item.split("=", 1)
        tokenizer, model = load_pretrained(AutoTokenizer, path), load_pretrained(AutoModelForCausalLM, path).eval()
        table = {}
        for index, position in enumerate(POSITIONS):
            layouts = [texts_and_offsets(p.good, p.question, PROMPT_TEMPLATE)[index] for p in pairs]
            edited = [texts_and_offsets(p.bad, p.question, PROMPT_TEMPLATE)[index] for p in pairs]
            back = layouts[0][1]
            good = hidden_states(model, tokenizer, [t for t, _ in layouts], back)
            bad = hidden_states(model, tokenizer, [t for t, _ in edited], back)
            table[position] = [
                round(probe_accuracy(good[:, layer], bad[:, layer], train_mask), 4) for layer in range(good.shape[1])
            ]
            print(
                f"{name:<12} {position:<28} " + " ".join(f"L{i}:{v:.2f}" for i, v in enumerate(table[position])),
                flush=True,
            )
        results["models"][name] = {"path": path, "by_position": table}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tag_probes.json").write_text(json.dumps(results, indent=1) + "\n")
    lines = [
        "| model | position | "
        + " | ".join(
            f"layer {i}"
            for i in range(max(len(v) for r in results["models"].values() for v in r["by_position"].values()))
        )
        + " |"
    ]
    lines.append("| --- " * (len(lines[0].split("|")) - 2) + "|")
    for name, r in results["models"].items():
        for position, values in r["by_position"].items():
            lines.append(f"| {name} | {position} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    (args.out / "tag_probes.md").write_text("\n".join(lines) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(results["models"]), figsize=(5 * len(results["models"]), 3.6), squeeze=False)
    for axis, (name, r) in zip(axes[0], results["models"].items()):
        for position, values in r["by_position"].items():
            axis.plot(range(len(values)), values, marker="o", label=position)
        axis.axhline(0.5, color="grey", linestyle=":")
        axis.set(title=name, xlabel="layer (0: embeddings)", ylabel="held-out pairs ordered", ylim=(0.3, 1.02))
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(args.out / "tag_probes.png", dpi=120)
    plt.close(figure)
    print(f"wrote {args.out / 'tag_probes.json'}, tag_probes.md, tag_probes.png")
    return results


if __name__ == "__main__":
    main()
