"""The step-tag convention of Math-Shepherd's released PRM, and the text a PRM reads.

``peiyi9979/math-shepherd-mistral-7b-prm`` reads ``f"{question} {solution}"`` where every step ends with
`` ки``; at each position holding the tag id it compares the logits of ``+`` and ``-`` and reports the
softmax probability of ``+``. Its ids are found as ``tokenizer.encode("+ -")[1:]`` and
``tokenizer.encode("ки")[-1]``; :func:`resolve_convention` does exactly that, so that checkpoint scores
here as it does in the authors' code, and falls back to per-symbol encoding for tokenizers (like the
miniature's character-level one) where ``"+ -"`` is not two tokens after a BOS.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from verikit.errors import VerikitError
from verikit.format import BAD_TOKEN, GOOD_TOKEN, STEP_TAG


class TagTokenError(VerikitError):
    """The tokenizer cannot express the step tag or the ``+``/``-`` candidates as single tokens."""


@dataclass(frozen=True)
class TagConvention:
    """Token ids a PRM reads and predicts: the tag's id, then the ids of ``+`` and ``-`` (in that order)."""

    tag_id: int
    good_id: int
    bad_id: int
    tag: str = STEP_TAG

    def to_dict(self) -> dict:
        return asdict(self)


def _single(tokenizer, text: str, role: str) -> int:
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) != 1 or tokenizer.decode(ids).strip() != text:  # an <unk> is one token but not the symbol
        raise TagTokenError(
            f"the PRM's {role} token {text!r} is {len(ids)} tokens in this tokenizer ({ids}); a PRM predicts "
            f"{GOOD_TOKEN!r}/{BAD_TOKEN!r} as single tokens — use a tokenizer that has them"
        )
    return ids[0]


def resolve_convention(tokenizer, tag: str = STEP_TAG) -> TagConvention:
    """The released PRM's ids where they are well defined, else one token per symbol (checked)."""
    released = tokenizer.encode(f"{GOOD_TOKEN} {BAD_TOKEN}")[1:]
    if len(released) == 2 and [tokenizer.decode([i]).strip() for i in released] == [GOOD_TOKEN, BAD_TOKEN]:
        good_id, bad_id = released
    else:
        good_id, bad_id = _single(tokenizer, GOOD_TOKEN, "good"), _single(tokenizer, BAD_TOKEN, "bad")
    tag_ids = tokenizer.encode(tag)
    if not tag_ids:
        raise TagTokenError(f"the tokenizer encodes the step tag {tag!r} to nothing")
    tag_id = tag_ids[-1]
    if tag_id in (good_id, bad_id):
        raise TagTokenError(f"the step tag {tag!r} shares its id {tag_id} with a candidate token")
    return TagConvention(tag_id=tag_id, good_id=good_id, bad_id=bad_id, tag=tag)


def ensure_tag_token(tokenizer, model=None, tag: str = STEP_TAG) -> bool:
    """Make ``tag`` one token (added as a special token, embeddings resized) if it is not; True if added.

    Tokenizers split ``ки`` differently; a PRM trained here needs it atomic so that every step has
    exactly one position to score.
    """
    if len(tokenizer.encode(tag, add_special_tokens=False)) == 1:
        return False
    tokenizer.add_tokens([tag], special_tokens=True)
    if model is not None:
        model.resize_token_embeddings(len(tokenizer))
    if len(tokenizer.encode(tag, add_special_tokens=False)) != 1:
        raise TagTokenError(f"could not make the step tag {tag!r} a single token in this tokenizer")
    return True
