"""The arith tokenizer (characters plus the format's two words), built with ``tokenizers``, saved as a
``PreTrainedTokenizerFast``.

Every printable ASCII character and the newline is one token, so numbers are read and written digit by
digit; the Math-Shepherd step tag ``ки`` is one (added) token too, and ``+`` / ``-`` are single tokens —
what a process reward model built from this generator needs. The solution format's fixed words,
``Step `` and ``The answer is ``, are one token each (what a BPE vocabulary would merge): they carry no
information, and as characters they were 40% of a solution's tokens — 40% of the cost of training,
sampling, annotation and scoring. ``<s>`` starts every encoded text; ``</s>`` ends a training solution.
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors

STEP_TAG = "ки"
SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>"]
CHARACTERS = ["\n"] + [chr(code) for code in range(32, 127)]
WORDS = ["Step ", "The answer is "]  # the solution format's boilerplate (verikit_arith.problems)


def build_tokenizer():
    """A fresh ``PreTrainedTokenizerFast``: padding on the left (for batched generation), BOS added."""
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + CHARACTERS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    # "." does not match a newline in the regex engine: split it off explicitly first.
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split("\n", behavior="isolated"), core.pre_tokenizer])
    core.decoder = decoders.Fuse()
    core.add_special_tokens(SPECIAL_TOKENS)
    core.add_tokens([STEP_TAG, *WORDS])
    core.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", 1)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",
    )
    return tokenizer
