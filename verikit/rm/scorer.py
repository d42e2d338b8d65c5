"""Scoring solutions with a PRM: every step's probability of ``+`` from one forward pass per solution.

``verikit.scorer(path)`` loads a model trained here (its ``verikit_rm.json`` names the convention) or any
causal LM that follows the released Math-Shepherd convention, e.g.
``peiyi9979/math-shepherd-mistral-7b-prm``. :meth:`TagScorer.score_per_prefix` re-encodes each prefix —
how a PRM without the tag trick must be queried — and exists to measure what the one-pass scoring saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from verikit.errors import DataError
from verikit.format import prm_input
from verikit.interfaces import Scorer
from verikit.models import RM_MANIFEST, load_pretrained, read_rm_manifest
from verikit.rm.convention import TagConvention, resolve_convention
from verikit.rm.data import length_sorted_batches, padding_id, right_padded


class TagScorer(Scorer):
    """A causal-LM PRM read at its step tags. ``batch_size`` solutions per forward pass."""

    def __init__(self, model, tokenizer, convention, batch_size: int = 16, device: str | None = None, name: str = ""):
        import torch

        self.tokenizer, self.convention, self.batch_size, self.name = tokenizer, convention, batch_size, name
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device).eval()
        self.max_tokens = getattr(model.config, "max_position_embeddings", None)

    def _encode(self, texts: Sequence[str], expected: Sequence[int] | None):
        rows = []
        for index, text in enumerate(texts):
            ids = self.tokenizer(text)["input_ids"]
            if self.max_tokens is not None and len(ids) > self.max_tokens:  # refuse before a huge forward pass
                raise DataError(
                    f"{len(ids)} tokens, more than the model's {self.max_tokens} positions; shorten or "
                    "split the solution",
                    line=index + 1,
                    field="steps",
                )
            positions = [i for i, token in enumerate(ids) if token == self.convention.tag_id]
            if not positions:
                raise DataError(
                    f"no step tag {self.convention.tag!r} in the text to score", line=index + 1, field="steps"
                )
            if expected is not None and len(positions) != expected[index]:
                raise DataError(
                    f"{expected[index]} steps but {len(positions)} step-tag tokens (does a step contain "
                    f"{self.convention.tag!r}?)",
                    line=index + 1,
                    field="steps",
                )
            rows.append((ids, positions))
        self.scored_tokens += sum(len(ids) for ids, _ in rows)
        return rows

    def score_texts(self, texts: Sequence[str], expected_steps: Sequence[int] | None = None) -> list[list[float]]:
        """P(``+``) at every tag of each already-tagged text; one forward pass per text (batched)."""
        import torch

        rows = self._encode(texts, expected_steps)
        results: list[list[float]] = [[] for _ in rows]
        with torch.inference_mode():
            for batch in length_sorted_batches([len(ids) for ids, _ in rows], self.batch_size):
                input_ids, mask = right_padded([rows[i][0] for i in batch], padding_id(self.tokenizer))
                logits = self.model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)).logits
                pair = logits[..., [self.convention.good_id, self.convention.bad_id]].float().softmax(-1)[..., 0].cpu()
                for row, index in enumerate(batch):
                    results[index] = pair[row, rows[index][1]].tolist()
        return results

    def score(self, questions: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        """Per-step P(``+``) for each (question, steps) pair."""
        for index, solution in enumerate(steps):
            if not solution:
                raise DataError("a solution with no steps cannot be scored", line=index + 1, field="steps")
        texts = [prm_input(q, s, self.convention.tag) for q, s in zip(questions, steps, strict=True)]
        return self.score_texts(texts, [len(s) for s in steps])

    def score_per_prefix(self, questions: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        """The same scores the slow way: one forward pass per step prefix, reading its last tag."""
        texts, owners = [], []
        for index, (question, solution) in enumerate(zip(questions, steps, strict=True)):
            for k in range(1, len(solution) + 1):
                texts.append(prm_input(question, solution[:k], self.convention.tag))
                owners.append(index)
        flat = self.score_texts(texts)
        scores: list[list[float]] = [[] for _ in questions]
        for owner, values in zip(owners, flat):
            scores[owner].append(values[-1])
        return scores


def score_unique(scorer, questions: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
    """``scorer.score`` with each distinct (question, steps) pair scored once.

    Sampled solutions repeat a lot (64 samples of an easy problem are mostly the same few texts, and every
    correct one is often the same string), and scoring is deterministic, so the copies get the first one's
    scores. Returns one list per input pair, in input order.
    """
    first: dict[tuple, int] = {}
    owners = [first.setdefault((q, tuple(s)), len(first)) for q, s in zip(questions, steps, strict=True)]
    unique = sorted(first, key=first.__getitem__)
    scores = scorer.score([q for q, _ in unique], [list(s) for _, s in unique]) if unique else []
    return [list(scores[owner]) for owner in owners]


#: Hub ids of released PRMs that read Math-Shepherd's convention without a ``verikit_rm.json``.
RELEASED_PRMS = ("peiyi9979/math-shepherd-mistral-7b-prm",)


def _require_causal_lm(path: str | Path) -> None:
    """A checkpoint saved as another head (TRL's PRMTrainer saves token classifiers) would load with a freshly
    initialised ``lm_head`` and score noise: refuse it in one line."""
    from transformers import AutoConfig

    try:
        architectures = AutoConfig.from_pretrained(str(path)).architectures or []
    except (OSError, ValueError):
        return  # no readable config here: loading the model reports it
    if architectures and not any(a.endswith("ForCausalLM") or a.endswith("LMHeadModel") for a in architectures):
        raise DataError(
            f"{path}: a {', '.join(architectures)}, not a causal LM with an lm_head; the tag scorer reads the + and - "
            "logits of the language-model head at each step tag (a TRL PRMTrainer model is a token classifier)"
        )


def load_tag_scorer(
    path: str | Path,
    manifest: dict | None = None,
    batch_size: int = 16,
    device: str | None = None,
    released_convention: bool = False,
) -> TagScorer:
    """A tag-head PRM from a model folder or hub id, its token convention from ``manifest`` (``verikit_rm.json``).

    A model without a manifest is read with the released Math-Shepherd convention only when it is a known
    released PRM (:data:`RELEASED_PRMS`) or ``released_convention`` says so: any causal LM yields ``+``/``-``
    probabilities near 0.5 at the tags, which would look like scores but mean nothing.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if manifest is None:
        manifest = read_rm_manifest(path)
    if manifest is None and not released_convention and str(path) not in RELEASED_PRMS:
        raise DataError(
            f"{path}: no {RM_MANIFEST} in it, so it is not a reward model trained by verikit; if it is a PRM "
            "that reads the released Math-Shepherd convention (+/- after each 'ки'), say so with "
            "released_convention=True (CLI: --released-convention)"
        )
    _require_causal_lm(path)
    tokenizer = load_pretrained(AutoTokenizer, path)
    model = load_pretrained(AutoModelForCausalLM, path)
    convention = TagConvention(**manifest["convention"]) if manifest is not None else resolve_convention(tokenizer)
    return TagScorer(model, tokenizer, convention, batch_size=batch_size, device=device, name=str(path))
