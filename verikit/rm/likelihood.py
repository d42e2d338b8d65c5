"""A PRM that keeps what its base model knows: logistic regression on the frozen base's per-step likelihoods.

Beyond the paper. Fine-tuning a small base into a tag-head PRM on Monte Carlo labels tends to teach it
problem difficulty instead of step correctness (its within-problem ranking stays near chance), while
the *untrained* base already assigns wrong steps lower likelihood. This model reads, in one forward
pass over the solution in the base's own format (the domain's prompt, then the steps joined by its
splitter), each step's token log-probabilities and turns a handful of features — sum, mean and
minimum log-probability, token count, relative position — into P(step good) with a logistic
regression fitted (scikit-learn) on the same MC labels a tag-head PRM trains on. The base stays frozen,
so training takes seconds after one scoring pass over the data.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

from verikit.components import domain as registered_domain
from verikit.components import step_splitter
from verikit.errors import DataError
from verikit.interfaces import Scorer
from verikit.models import RM_MANIFEST, load_pretrained, read_rm_manifest
from verikit.rm.data import ExampleSet, length_sorted_batches, padding_id, right_padded

KIND = "likelihood"
FEATURES = ("sum_logprob", "mean_logprob", "min_logprob", "tokens", "position")


class LikelihoodFeaturizer:
    """Per-step log-probability features of solutions under a causal LM (one forward pass per solution)."""

    def __init__(self, model, tokenizer, domain: str | None = None, batch_size: int = 32, device: str | None = None):
        import torch

        self.tokenizer, self.batch_size = tokenizer, batch_size
        if domain is None:  # the arith/GSM8K-style default: question, newline, one step per line
            self.prompt_template, self.join = "{question}\n", "\n".join
        else:
            record = registered_domain(domain)
            self.prompt_template, self.join = record.prompt_template, step_splitter(record.step_splitter).join
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device).eval()
        self.scored_tokens = 0  # tokens the model has read, a running total

    def _layout(self, question: str, steps: Sequence[str]):
        """The text the base would have generated, and each step's character span in it."""
        prompt = self.prompt_template.format(question=question)
        spans, previous_end = [], 0
        for k in range(1, len(steps) + 1):
            end = len(self.join(list(steps[:k])))
            spans.append((len(prompt) + previous_end, len(prompt) + end))
            previous_end = end
        return prompt + self.join(list(steps)), spans

    def features(self, questions: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[list[float]]]:
        """``[solution][step] → feature vector`` in the order of :data:`FEATURES`."""
        import torch

        encoded = []
        for index, (question, solution) in enumerate(zip(questions, steps, strict=True)):
            if not solution:
                raise DataError("a solution with no steps cannot be scored", line=index + 1, field="steps")
            text, spans = self._layout(question, solution)
            enc = self.tokenizer(text, return_offsets_mapping=True)
            encoded.append((enc["input_ids"], enc["offset_mapping"], spans))
        self.scored_tokens += sum(len(e[0]) for e in encoded)
        out: list[list[list[float]] | None] = [None] * len(encoded)
        with torch.inference_mode():
            for chunk in length_sorted_batches([len(e[0]) for e in encoded], self.batch_size):
                ids, mask = right_padded([encoded[i][0] for i in chunk], padding_id(self.tokenizer))
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits.float()
                token_logprobs = (
                    logits[:, :-1].log_softmax(-1).gather(-1, ids[:, 1:, None].to(self.device))[..., 0].cpu()
                )
                for row, i in enumerate(chunk):
                    token_ids, offsets, spans = encoded[i]
                    out[i] = _step_vectors(token_logprobs[row], offsets[: len(token_ids)], spans)
        return out  # type: ignore[return-value]


def _step_vectors(token_logprobs, offsets, spans) -> list[list[float]]:
    """Feature vectors per step from one text's token log-probabilities (``token_logprobs[p - 1]`` is the
    log-probability of token ``p``); a token belongs to the step whose character span holds its start."""
    per_step: list[list[float]] = [[] for _ in spans]
    for position in range(1, len(offsets)):
        begin, end = offsets[position]
        if end <= begin:
            continue  # special tokens carry no text
        step = next((k for k, (low, high) in enumerate(spans) if low <= begin < high), None)
        if step is not None:
            per_step[step].append(float(token_logprobs[position - 1]))
    vectors = []
    for step, values in enumerate(per_step):
        values = values or [0.0]  # an empty step: nothing surprising in it
        vectors.append(
            [sum(values), sum(values) / len(values), min(values), float(len(values)), step / max(1, len(spans) - 1)]
        )
    return vectors


class LikelihoodPRM(Scorer):
    """Frozen base + logistic regression; the same ``score`` interface as :class:`~verikit.rm.scorer.TagScorer`."""

    def __init__(
        self,
        featurizer: LikelihoodFeaturizer,
        coefficients: Sequence[float],
        intercept: float,
        mean: Sequence[float],
        scale: Sequence[float],
        name: str = "",
    ):
        self.featurizer, self.coefficients, self.intercept, self.mean, self.scale, self.name = (
            featurizer,
            list(coefficients),
            float(intercept),
            list(mean),
            list(scale),
            name,
        )

    @property
    def scored_tokens(self) -> int:
        return self.featurizer.scored_tokens

    def _probability(self, vector: Sequence[float]) -> float:
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coefficients, vector, self.mean, self.scale)
        )
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def score(self, questions: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        return [[self._probability(v) for v in solution] for solution in self.featurizer.features(questions, steps)]


def train_likelihood_prm(
    base: str,
    data: ExampleSet,
    out: str | Path,
    domain: str | None = None,
    regularization: float = 1.0,
    batch_size: int = 32,
) -> dict:
    """Fit the logistic head on ``data``'s step targets (soft targets become sample weights of both classes)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    tokenizer = load_pretrained(AutoTokenizer, base)
    featurizer = LikelihoodFeaturizer(load_pretrained(AutoModelForCausalLM, base), tokenizer, domain, batch_size)
    examples = data.examples
    vectors = featurizer.features([e.question for e in examples], [e.steps for e in examples])
    rows, targets = [], []
    for example, solution in zip(examples, vectors):
        for vector, target in zip(solution, example.targets):
            if target is not None:
                rows.append(vector)
                targets.append(float(target))
    if len(set(t >= 0.5 for t in targets)) < 2:
        raise DataError("the likelihood PRM needs both good and bad steps among its training targets")
    X = np.asarray(rows)
    mean, scale = X.mean(0), X.std(0) + 1e-8
    Z = (X - mean) / scale
    # A soft target t counts as weight t for the good class and 1 - t for the bad one.
    T = np.asarray(targets)
    features = np.concatenate([Z, Z])
    labels = np.concatenate([np.ones(len(T)), np.zeros(len(T))])
    weights = np.concatenate([T, 1.0 - T])
    keep = weights > 0
    head = LogisticRegression(C=regularization, max_iter=1000).fit(
        features[keep], labels[keep], sample_weight=weights[keep]
    )
    local = Path(base)
    summary = {  # a local base is stored by absolute path, so the PRM loads from any working directory
        "kind": KIND,
        "base": str(local.resolve()) if local.exists() else str(base),
        "features": list(FEATURES),
        "coefficients": head.coef_[0].tolist(),
        "intercept": float(head.intercept_[0]),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "domain": domain,
        "examples": len(examples),
        "trained_steps": len(targets),
        "skipped_records": data.skipped,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / RM_MANIFEST).write_text(json.dumps(summary, indent=2))
    return summary


def load_likelihood_prm(
    path: str | Path, manifest: dict | None = None, batch_size: int = 32, device: str | None = None
) -> LikelihoodPRM:
    """The likelihood PRM whose ``verikit_rm.json`` (``manifest``) :func:`train_likelihood_prm` wrote in ``path``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    manifest = manifest or read_rm_manifest(path)
    if manifest is None or manifest.get("kind") != KIND:
        raise DataError(f"{path}: not a likelihood PRM (its {RM_MANIFEST} must say kind={KIND!r})")
    base = manifest["base"]
    featurizer = LikelihoodFeaturizer(
        load_pretrained(AutoModelForCausalLM, base),
        load_pretrained(AutoTokenizer, base),
        manifest.get("domain"),
        batch_size,
        device,
    )
    return LikelihoodPRM(
        featurizer, manifest["coefficients"], manifest["intercept"], manifest["mean"], manifest["scale"], name=str(path)
    )
