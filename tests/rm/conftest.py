import pytest


def build_sentencepiece_like_tokenizer(words):
    """A word-level tokenizer shaped like Mistral's: Metaspace (``▁`` marks a leading space), BOS first.

    With it ``encode("+ -")`` is ``[BOS, ▁+, ▁-]`` and ``encode("ки")`` ends with ``▁ки``: the
    properties the released Math-Shepherd PRM's convention relies on.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>"]
    pieces = sorted({"▁" + w for w in words} | {"\n"})
    vocab = {token: index for index, token in enumerate(specials + pieces)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split("\n", behavior="isolated"),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        ]
    )
    core.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    from tokenizers import decoders

    core.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="</s>"
    )


WORDS = [
    "+",
    "-",
    "ки",
    "Step",
    "1:",
    "2:",
    "3:",
    "2+3=5",
    "5*2=10",
    "10-1=9",
    "The",
    "answer",
    "is",
    "9",
    "2+3*2-1=?",
    "What",
    "x?",
    "x=4",
    "4",
]


@pytest.fixture(scope="session")
def mistral_prm(tmp_path_factory):
    """A tiny random MistralForCausalLM with the sentencepiece-like tokenizer, saved as a model folder."""
    from verikit.tiny_models import build_tiny_causal_lm

    return build_tiny_causal_lm(
        tmp_path_factory.mktemp("mistral-prm") / "model",
        tokenizer=build_sentencepiece_like_tokenizer(WORDS),
        max_positions=1024,
    )
