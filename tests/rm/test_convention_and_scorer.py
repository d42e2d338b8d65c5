"""The released PRM's step-tag convention, awkward tokenizers, and one-pass scoring."""

import pytest
from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

import verikit
from verikit.errors import DataError
from verikit.format import prm_input
from verikit.metrics import aggregate
from verikit.rm.convention import TagTokenError, ensure_tag_token, resolve_convention

from .conftest import WORDS, build_sentencepiece_like_tokenizer

QUESTION = "2+3*2-1=?"
STEPS = ["Step 1: 2+3=5", "Step 2: 5*2=10", "Step 3: 10-1=9", "The answer is 9"]


def test_released_convention_reads_the_ids_the_authors_code_reads(mistral_prm):
    tokenizer = AutoTokenizer.from_pretrained(mistral_prm)
    convention = resolve_convention(tokenizer)
    # The authors' code: candidate_tokens = encode("+ -")[1:]; step_tag_id = encode("ки")[-1]
    assert [convention.good_id, convention.bad_id] == tokenizer.encode("+ -")[1:]
    assert convention.tag_id == tokenizer.encode("ки")[-1]
    assert tokenizer.convert_ids_to_tokens([convention.good_id, convention.bad_id, convention.tag_id]) == [
        "▁+",
        "▁-",
        "▁ки",
    ]
    ids = tokenizer(prm_input(QUESTION, STEPS))["input_ids"]
    assert ids.count(convention.tag_id) == len(STEPS)


def test_one_pass_scores_equal_per_prefix_scores_and_are_probabilities(mistral_prm):
    scorer = verikit.scorer(mistral_prm, batch_size=3, released_convention=True)
    questions = [QUESTION, QUESTION, "What x?"]
    steps = [STEPS, STEPS[:1], ["x=4", "The answer is 4"]]
    one_pass = scorer.score(questions, steps)
    per_prefix = scorer.score_per_prefix(questions, steps)
    assert [len(s) for s in one_pass] == [4, 1, 2]
    for a, b in zip(one_pass, per_prefix):
        assert a == pytest.approx(b, abs=1e-5)
        assert all(0.0 < value < 1.0 for value in a)
    # a solution scored alone gets the same scores as in a padded batch
    assert scorer.score([QUESTION], [STEPS[:1]])[0] == pytest.approx(one_pass[1], abs=1e-5)


def test_scoring_without_a_tag_or_steps_is_a_clear_error(mistral_prm):
    scorer = verikit.scorer(mistral_prm, released_convention=True)
    with pytest.raises(DataError, match="no step tag"):
        scorer.score_texts([f"{QUESTION} Step 1: 2+3=5"])
    with pytest.raises(DataError, match="no steps"):
        scorer.score([QUESTION], [[]])
    with pytest.raises(DataError, match="2 steps but 3 step-tag tokens"):
        scorer.score([QUESTION], [["Step 1: 2+3=5 ки", "Step 2: 5*2=10"]])


def test_aggregations_and_their_edge_cases():
    assert (
        aggregate([0.9], "min")
        == aggregate([0.9], "prod")
        == aggregate([0.9], "last")
        == aggregate([0.9], "mean")
        == 0.9
    )
    assert aggregate([0.9, 0.5, 0.8], "min") == 0.5
    assert aggregate([0.9, 0.5, 0.8], "prod") == pytest.approx(0.36)
    assert aggregate([0.9, 0.5, 0.8], "last") == 0.8
    assert aggregate([0.9, 0.5, 0.8], "mean") == pytest.approx(2.2 / 3)
    with pytest.raises(DataError):
        aggregate([], "min")
    with pytest.raises(ValueError, match="unknown aggregation"):
        aggregate([0.5], "max")


def _gpt2_like_tokenizer():
    """A byte-level BPE trained on a few lines: 'ки' is several byte tokens, '+' and '-' are one each."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(
        ["Step 1: 2+3=5", "The answer is 9", "a - b + c"],
        trainers.BpeTrainer(
            vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<|endoftext|>"]
        ),
    )
    return PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def test_a_multi_token_tag_is_added_as_a_special_token_and_embeddings_resized():
    tokenizer = _gpt2_like_tokenizer()
    assert len(tokenizer.encode("ки", add_special_tokens=False)) > 1
    model = GPT2LMHeadModel(
        GPT2Config(vocab_size=len(tokenizer), bos_token_id=0, eos_token_id=0, n_embd=16, n_layer=1, n_head=2)
    )
    before = model.get_input_embeddings().weight.shape[0]
    assert ensure_tag_token(tokenizer, model) is True
    assert model.get_input_embeddings().weight.shape[0] == before + 1 == len(tokenizer)
    convention = resolve_convention(tokenizer)  # no BOS here: "+ -"[1:] is not two symbols, so per-symbol ids
    assert tokenizer.decode([convention.good_id]) == "+" and tokenizer.decode([convention.bad_id]) == "-"
    ids = tokenizer(prm_input(QUESTION, STEPS))["input_ids"]
    assert ids.count(convention.tag_id) == len(STEPS)
    assert ensure_tag_token(tokenizer, model) is False  # idempotent


def test_candidates_that_are_not_single_tokens_fail_clearly():
    tokenizer = build_sentencepiece_like_tokenizer([w for w in WORDS if w not in ("+", "-")])
    with pytest.raises(TagTokenError, match=r"good token '\+'"):
        resolve_convention(tokenizer)


def test_score_unique_scores_each_distinct_solution_once_and_keeps_the_order(mistral_prm):
    from verikit.rm.scorer import score_unique

    scorer = verikit.scorer(mistral_prm, batch_size=2, released_convention=True)
    seen = []
    real_score = scorer.score

    def counting(questions, steps):
        seen.append(len(questions))
        return real_score(questions, steps)

    scorer.score = counting
    questions = [QUESTION, "What x?", QUESTION, QUESTION, "What x?"]
    steps = [STEPS, STEPS[:2], STEPS, STEPS[:2], STEPS[:2]]
    got = score_unique(scorer, questions, steps)
    assert seen == [3]  # (QUESTION, STEPS), ("What x?", STEPS[:2]), (QUESTION, STEPS[:2])
    expected = real_score(questions, steps)
    assert [len(g) for g in got] == [len(e) for e in expected]
    assert all(g == pytest.approx(e, abs=1e-6) for g, e in zip(got, expected))
    assert got[0] == got[2] and got[1] == got[4]  # copies get the same scores
    assert score_unique(scorer, [], []) == []


def test_a_scorer_counts_the_tokens_its_model_reads(mistral_prm):
    from verikit.rm.scorer import prm_input

    scorer = verikit.scorer(mistral_prm, batch_size=2, released_convention=True)
    assert scorer.scored_tokens == 0
    scorer.score([QUESTION, "What x?"], [STEPS, STEPS[:2]])
    expected = sum(
        len(scorer.tokenizer(prm_input(q, s, scorer.convention.tag))["input_ids"])
        for q, s in [(QUESTION, STEPS), ("What x?", STEPS[:2])]
    )
    assert scorer.scored_tokens == expected
    scorer.score([QUESTION], [STEPS])
    assert scorer.scored_tokens > expected  # a running total
