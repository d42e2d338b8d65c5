"""The core TransformersCompleter, exercised on a tiny random model with a character tokenizer (``toy_lm``)."""

import pytest
from transformers import AutoModelForCausalLM

import verikit
from verikit.completers.transformers import TransformersCompleter, cut_at_stop

PROMPTS = ["1+2=?\n", "13*4-7+2=?\n", "9=?\n", "5*5*5-1=?\nStep 1:"]


def test_loads_from_pretrained_through_the_registry(toy_lm):
    completer = verikit.completer("transformers", model=str(toy_lm), device="cpu")
    assert isinstance(completer, TransformersCompleter) and completer.device == "cpu"
    out = completer.complete(PROMPTS, n=2, max_new_tokens=8, seed=1)
    assert [len(o) for o in out] == [2, 2, 2, 2] and all(isinstance(t, str) for o in out for t in o)


def test_the_same_seed_gives_the_same_samples(toy_lm):
    completer = verikit.completer("transformers", model=str(toy_lm), device="cpu")
    first = completer.complete(PROMPTS, n=3, temperature=1.0, max_new_tokens=12, seed=7)
    again = completer.complete(PROMPTS, n=3, temperature=1.0, max_new_tokens=12, seed=7)
    other = completer.complete(PROMPTS, n=3, temperature=1.0, max_new_tokens=12, seed=8)
    assert first == again
    assert first != other


def test_n_samples_per_prompt_differ_when_sampling(toy_lm):
    completer = verikit.completer("transformers", model=str(toy_lm), device="cpu")
    out = completer.complete(["1+2=?\n"], n=8, temperature=1.5, max_new_tokens=12, seed=0)
    assert len(out) == 1 and len(out[0]) == 8 and len(set(out[0])) > 1


def test_batched_greedy_equals_one_prompt_at_a_time(toy_lm):
    batched = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=64)
    single = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=1)
    together = batched.complete(PROMPTS, n=1, temperature=0, max_new_tokens=16)
    alone = [single.complete([p], n=1, temperature=0, max_new_tokens=16)[0] for p in PROMPTS]
    assert together == alone


def test_stop_strings_end_each_continuation_right_after_the_stop(toy_lm):
    completer = verikit.completer("transformers", model=str(toy_lm), device="cpu")
    free = completer.complete(PROMPTS, n=4, temperature=1.0, max_new_tokens=40, seed=3)
    stopped = completer.complete(PROMPTS, n=4, temperature=1.0, max_new_tokens=40, seed=3, stop=["\n"])
    assert any("\n" in text[:-1] for sample in free for text in sample)  # the stop would have mattered
    for sample in stopped:
        for text in sample:
            assert "\n" not in text[:-1]
    for free_sample, stopped_sample in zip(free, stopped):
        for free_text, stopped_text in zip(free_sample, stopped_sample):
            assert cut_at_stop(free_text, ["\n"]) == stopped_text


def test_cut_at_stop_uses_the_earliest_stop():
    assert cut_at_stop("ab\ncd.ef", ["."]) == "ab\ncd."
    assert cut_at_stop("ab\ncd.ef", [".", "\n"]) == "ab\n"
    assert cut_at_stop("abc", ["x"]) == "abc"


def test_bad_arguments_are_clear(toy_lm):
    completer = verikit.completer("transformers", model=str(toy_lm), device="cpu")
    with pytest.raises(ValueError, match="n must be at least 1"):
        completer.complete(PROMPTS, n=0)
    assert completer.complete([], n=3) == []
    model = AutoModelForCausalLM.from_pretrained(toy_lm)
    with pytest.raises(ValueError, match="needs its tokenizer"):
        TransformersCompleter(model)


STEP_PREFIXES = [
    "7+3*4-2=?\n" + "".join(f"Step {k}: {k}+{k}={2 * k}\n" for k in range(1, last + 1)) for last in range(0, 8)
]


@pytest.mark.parametrize("batch_size", [1, 64])
def test_prefix_cache_gives_the_same_greedy_rollouts_as_encoding_every_prompt(toy_lm, batch_size):
    plain = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=batch_size)
    reuse = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=batch_size, prefix_cache=True)
    prompts = STEP_PREFIXES[::-1] + ["9=?\n"]  # out of order, different lengths: left padding inside a batch
    expected = plain.complete(prompts, n=3, temperature=0, max_new_tokens=12)
    got = reuse.complete(prompts, n=3, temperature=0, max_new_tokens=12)
    assert got == expected
    # each step prefix extends the previous one: only the new tokens of each were encoded
    assert reuse.prompt_tokens_reused > reuse.prompt_tokens_encoded
    assert got.token_counts == expected.token_counts


def test_prefix_cache_sampling_is_seeded_and_gives_n_rollouts_per_prompt(toy_lm):
    reuse = verikit.completer("transformers", model=str(toy_lm), device="cpu", prefix_cache=True)
    first = reuse.complete(STEP_PREFIXES, n=4, temperature=1.0, max_new_tokens=10, seed=5, stop=["\n"])
    assert first == reuse.complete(STEP_PREFIXES, n=4, temperature=1.0, max_new_tokens=10, seed=5, stop=["\n"])
    assert [len(r) for r in first] == [4] * len(STEP_PREFIXES)
    assert len({t for r in first for t in r}) > 1


MIXED = STEP_PREFIXES[::-1] + PROMPTS  # long and short prompts in one batch: left padding, rows ending apart


@pytest.mark.parametrize("prefix_cache", [False, True])
@pytest.mark.parametrize("stop", [None, ["\n"]])
def test_the_buffered_loop_decodes_greedily_exactly_as_generate(toy_lm, prefix_cache, stop):
    fast = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=16, prefix_cache=prefix_cache)
    slow = verikit.completer(
        "transformers", model=str(toy_lm), device="cpu", batch_size=16, prefix_cache=prefix_cache, buffered=False
    )
    expected = slow.complete(MIXED, n=2, temperature=0, max_new_tokens=24, stop=stop)
    got = fast.complete(MIXED, n=2, temperature=0, max_new_tokens=24, stop=stop)
    assert got == expected
    assert len({len(t) for sample in got for t in sample}) > 2  # rows really ended at different steps
    assert got.token_counts == expected.token_counts  # the loop counts what generate counts
    tokenizer = fast.tokenizer
    for texts, counts in zip(got, got.token_counts):  # the text's own tokens, plus the end-of-sequence token if any
        for text, count in zip(texts, counts):
            assert count - len(tokenizer(text, add_special_tokens=False)["input_ids"]) in (0, 1)


def test_the_buffered_loop_samples_from_the_models_distribution(toy_lm):
    import torch

    completer = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=4000)
    draws = completer.complete(["1+2=?\n"], n=4000, temperature=1.0, max_new_tokens=1, seed=0)[0]
    tokenizer = completer.tokenizer
    with torch.no_grad():
        logits = completer.model(**tokenizer(["1+2=?\n"], return_tensors="pt")).logits[0, -1]
    probabilities = logits.softmax(-1)
    counts = {}
    for text in draws:
        counts[text] = counts.get(text, 0) + 1
    for token_id in probabilities.topk(3).indices.tolist():
        text = tokenizer.decode([token_id], skip_special_tokens=True)
        if text:  # the end-of-sequence token decodes to ""
            expected = probabilities[token_id].item()
            assert abs(counts.get(text, 0) / 4000 - expected) < 4 * (expected * (1 - expected) / 4000) ** 0.5 + 1e-3
    nucleus = completer.complete(["1+2=?\n"], n=500, temperature=1.0, top_p=1e-4, max_new_tokens=1, seed=0)[0]
    assert len(set(nucleus)) == 1  # top-p this small keeps only the most likely token


def test_a_stop_string_the_loop_cannot_watch_falls_back_to_generate(toy_lm):
    fast = verikit.completer("transformers", model=str(toy_lm), device="cpu")
    slow = verikit.completer("transformers", model=str(toy_lm), device="cpu", buffered=False)
    stop = ["1+"]  # two tokens: only generate's stop strings can honour it
    assert fast._buffered_stop_ids(stop) is None and fast._buffered_stop_ids(["\n"]) is not None
    assert fast.complete(PROMPTS, n=3, temperature=1.0, max_new_tokens=20, seed=2, stop=stop) == slow.complete(
        PROMPTS, n=3, temperature=1.0, max_new_tokens=20, seed=2, stop=stop
    )


@pytest.mark.parametrize("separate_after", [256, 4])  # rows interleaved throughout, or kept apart after a few tokens
@pytest.mark.parametrize("stop", [None, ["\n"]])
def test_shared_prefix_attention_decodes_greedily_exactly_as_generate(toy_lm, stop, separate_after, monkeypatch):
    # the toy model has grouped key/value heads (4 query heads, 2 kv heads): the grouped layout is exercised
    shared = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=16, shared_prefix=True)
    slow = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=16, buffered=False)
    from verikit.completers import shared_prefix

    monkeypatch.setattr(shared_prefix, "SEPARATE_AFTER", separate_after)

    calls = []
    real = shared_prefix.shared_prefix_attention
    shared_prefix._register()  # registered once per process; the spy below replaces it for this call
    try:
        from transformers import AttentionInterface

        AttentionInterface.register(shared_prefix.NAME, lambda *a, **k: calls.append(1) or real(*a, **k))
        got = shared.complete(MIXED, n=3, temperature=0, max_new_tokens=24, stop=stop)
    finally:
        AttentionInterface.register(shared_prefix.NAME, real)
    assert calls, "the shared-prefix attention was not used"
    expected = slow.complete(MIXED, n=3, temperature=0, max_new_tokens=24, stop=stop)
    assert got == expected and got.token_counts == expected.token_counts
    assert shared.model.config._attn_implementation != shared_prefix.NAME  # the model's own attention is back


@pytest.mark.parametrize("separate_after", [256, 4])  # twins in the interleaved layout, and kept apart
@pytest.mark.parametrize("keyed", [True, False])  # each row's keyed stream, or the batch's Gumbel noise
def test_twins_are_computed_once_and_sample_what_every_row_would(toy_lm, keyed, separate_after, monkeypatch):
    # a prompt's samples that have generated the same tokens so far go through the model as one row; each row still
    # draws its own next token, so the samples are those of the loop without twins, and of rows kept apart
    from verikit.completers import shared_prefix
    from verikit.completers.prefix_cache import cache_keyword

    monkeypatch.setattr(shared_prefix, "SEPARATE_AFTER", separate_after)
    seeds = [[100 * i + j for j in range(6)] for i in range(len(MIXED))] if keyed else None
    sampling = dict(n=6, temperature=0.35, max_new_tokens=20, seed=3, sample_seeds=seeds, stop=["\n"])
    twins = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=24)
    model_rows, cache_rows = [], []

    def count_rows(module, args, kwargs):
        cache = kwargs.get(cache_keyword(module))
        if kwargs["input_ids"].shape[1] == 1 and getattr(cache, "twins", None) is not None:
            model_rows.append(kwargs["input_ids"].shape[0])
            cache_rows.append(len(cache.twins.source))

    hook = twins.model.register_forward_pre_hook(count_rows, with_kwargs=True)
    try:
        got = twins.complete(MIXED, **sampling)
    finally:
        hook.remove()
    apart = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=24, twins=False)
    assert got == apart.complete(MIXED, **sampling)
    if keyed:  # without the shared prefix at all (one cache row per sample), in another batch layout
        plain = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=5, shared_prefix=False)
        assert got == plain.complete(MIXED, **sampling)
    assert model_rows and sum(model_rows) < sum(cache_rows) / 2  # most rows were twins of another
    assert model_rows[0] * 6 == cache_rows[0]  # a prompt's rows are one before their first token
    diverged = [len(set(samples)) for samples in got]
    assert max(diverged) > 1 and min(diverged) < 6  # twins that parted, and twins to the end


def test_keyed_samples_do_not_depend_on_the_batch_they_are_drawn_in(toy_lm):
    seeds = [[1000 * i + j for j in range(4)] for i in range(len(MIXED))]
    reference = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=64).complete(
        MIXED, n=4, temperature=0.9, max_new_tokens=20, sample_seeds=seeds, seed=1
    )
    assert len({t for sample in reference for t in sample}) > len(MIXED)  # really sampled
    small = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=3, shared_prefix=False)
    assert small.complete(MIXED, n=4, temperature=0.9, max_new_tokens=20, sample_seeds=seeds, seed=7) == reference
    # the prompts in another order, and their samples asked for two at a time in two calls
    order = list(range(len(MIXED)))[::-1]
    first = small.complete(
        [MIXED[i] for i in order], n=2, temperature=0.9, max_new_tokens=20, sample_seeds=[seeds[i][:2] for i in order]
    )
    second = small.complete(
        [MIXED[i] for i in order], n=2, temperature=0.9, max_new_tokens=20, sample_seeds=[seeds[i][2:] for i in order]
    )
    for position, i in enumerate(order):
        assert first[position] + second[position] == reference[i]
    other = [[seed + 1 for seed in row] for row in seeds]
    assert small.complete(MIXED, n=4, temperature=0.9, max_new_tokens=20, sample_seeds=other) != reference
    with pytest.raises(ValueError, match="4 seeds for each of the"):
        small.complete(MIXED, n=4, temperature=0.9, sample_seeds=seeds[:-1])


def test_keyed_sampling_draws_from_the_models_distribution(toy_lm):
    import torch

    completer = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=4000)
    draws = completer.complete(
        ["1+2=?\n"], n=4000, temperature=1.0, max_new_tokens=1, sample_seeds=[list(range(4000))]
    )[0]
    tokenizer = completer.tokenizer
    with torch.no_grad():
        probabilities = completer.model(**tokenizer(["1+2=?\n"], return_tensors="pt")).logits[0, -1].softmax(-1)
    for token_id in probabilities.topk(3).indices.tolist():
        text = tokenizer.decode([token_id], skip_special_tokens=True)
        if text:
            expected = probabilities[token_id].item()
            observed = sum(d == text for d in draws) / 4000
            assert abs(observed - expected) < 4 * (expected * (1 - expected) / 4000) ** 0.5 + 1e-3
    nucleus = completer.complete(
        ["1+2=?\n"], n=300, temperature=1.0, top_p=1e-4, max_new_tokens=1, sample_seeds=[list(range(300))]
    )[0]
    assert len(set(nucleus)) == 1


def test_keyed_samples_need_the_decoding_loop(toy_lm):
    slow = verikit.completer("transformers", model=str(toy_lm), device="cpu", buffered=False)
    assert not slow.supports_sample_seeds()
    windowed = verikit.completer("transformers", model=str(toy_lm), device="cpu")
    assert windowed.supports_sample_seeds()  # Mistral's 4,096-token window is longer than the model's 256 positions
    windowed.model.config.sliding_window = 16  # now a real window: generate() serves it, and cannot key samples
    assert not windowed.supports_sample_seeds()
    with pytest.raises(NotImplementedError, match="keyed samples"):
        slow.complete(PROMPTS, n=1, temperature=1.0, sample_seeds=[[1]] * len(PROMPTS))
