"""The prompt store: encoded prompts kept across calls and answered when a later prompt is a prefix of one."""

import pytest

torch = pytest.importorskip("torch")

import verikit  # noqa: E402
from verikit.completers.prompt_store import PromptStore, order_for_reuse  # noqa: E402


def _layers(tokens, layers=2):
    """Fake per-layer keys/values whose entries name the token they belong to (so a crop can be checked)."""
    column = torch.tensor(tokens, dtype=torch.float32)[None, None, :, None]
    return [
        (column.expand(1, 2, len(tokens), 4) + layer, -column.expand(1, 2, len(tokens), 4)) for layer in range(layers)
    ]


def test_a_prefix_of_a_stored_prompt_is_answered_by_cropping_it():
    store = PromptStore(max_bytes=10**6)
    store.add([5, 6, 7, 8], _layers([5, 6, 7, 8]))
    found = store.find([5, 6])
    assert [keys.shape[-2] for keys, _ in found] == [2, 2]
    assert found[1][0][0, 0, :, 0].tolist() == [6.0, 7.0]  # layer 1's keys of tokens 5 and 6
    assert store.find([5, 6, 7, 8]) is not None and store.find([5, 7]) is None and store.find([5, 6, 7, 8, 9]) is None
    assert store.covers([5]) and not store.covers([6])


def test_a_covered_prompt_is_not_stored_twice_and_a_longer_one_replaces_its_prefix():
    store = PromptStore(max_bytes=10**6)
    store.add([1, 2, 3], _layers([1, 2, 3]))
    store.add([1, 2], _layers([1, 2]))  # covered by [1, 2, 3]
    assert len(store) == 1
    store.add([1, 2, 3, 4], _layers([1, 2, 3, 4]))  # [1, 2, 3] is a prefix of it: one entry answers both
    assert len(store) == 1 and store.find([1, 2, 3])[0][0].shape[-2] == 3
    assert store.bytes == sum(k.nbytes + v.nbytes for k, v in _layers([1, 2, 3, 4]))


def test_the_least_recently_used_prompts_go_first_beyond_the_budget():
    one = sum(k.nbytes + v.nbytes for k, v in _layers([0, 0, 0]))
    store = PromptStore(max_bytes=2 * one)
    store.add([1, 1, 1], _layers([1, 1, 1]))
    store.add([2, 2, 2], _layers([2, 2, 2]))
    assert store.find([1, 1]) is not None  # used: [2, 2, 2] is now the least recently used
    store.add([3, 3, 3], _layers([3, 3, 3]))
    assert store.covers([1, 1, 1]) and store.covers([3, 3, 3]) and not store.covers([2, 2, 2])
    assert store.bytes == 2 * one
    store.add([4] * 10, _layers([4] * 10))  # larger than the whole budget: not kept, nothing evicted for it
    assert len(store) == 2 and not store.covers([4])
    assert PromptStore(max_bytes=0).add([1], _layers([1])) is None and len(PromptStore(max_bytes=0)) == 0


def test_prompts_nothing_answers_are_encoded_first():
    store = PromptStore(max_bytes=10**6)
    store.add([9, 9, 9], _layers([9, 9, 9]))
    # a prompt's last token is fed by decoding, so what is looked up is all but it
    prompts = [[1, 2, 0], [1, 2, 3, 4, 0], [9, 9, 0], [7, 0], [1, 2, 3, 0]]
    order = order_for_reuse(store, prompts)
    assert sorted(order) == list(range(len(prompts)))
    assert set(order[:2]) == {1, 3} and order[:2] == [1, 3]  # uncovered, longest first
    assert order[2:] == [4, 0, 2]  # covered by [1, 2, 3, 4] or by the store, longest first


PROMPTS = ["1+2=?\nT", "1+2=?\nT1", "1+2=?\nT1+", "3+4=?\n", "3+4=?\n1+", "1+2=?\n"]


def test_the_completer_answers_later_prefixes_from_the_store_with_the_same_samples(toy_lm):
    seeds = [[100 * i + j for j in range(3)] for i in range(len(PROMPTS))]
    plain = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=6)
    stored = verikit.completer("transformers", model=str(toy_lm), device="cpu", batch_size=6, prompt_cache_mb=16)
    settings = dict(n=3, temperature=0.9, max_new_tokens=16)
    # first the longest prompts (as early exit probes the last step first), then their prefixes in a later call
    first, later = [2, 4], [0, 1, 3, 5]
    got_first = stored.complete([PROMPTS[i] for i in first], sample_seeds=[seeds[i] for i in first], **settings)
    assert len(stored.prompt_store) == 2 and stored.prompt_store.reused_tokens == 0
    got_later = stored.complete([PROMPTS[i] for i in later], sample_seeds=[seeds[i] for i in later], **settings)
    lengths = stored.count_tokens([PROMPTS[i] for i in later])
    assert stored.prompt_store.reused_tokens == sum(lengths) - len(lengths)  # every later prompt answered
    expected = plain.complete(PROMPTS, sample_seeds=seeds, **settings)
    assert list(got_first) == [expected[i] for i in first] and list(got_later) == [expected[i] for i in later]
    # greedy, against generate() itself
    slow = verikit.completer("transformers", model=str(toy_lm), device="cpu", buffered=False)
    stored.complete(PROMPTS[2:3], n=2, temperature=0, max_new_tokens=16)
    assert stored.complete(PROMPTS[:2], n=2, temperature=0, max_new_tokens=16) == slow.complete(
        PROMPTS[:2], n=2, temperature=0, max_new_tokens=16
    )
