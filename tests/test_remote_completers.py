"""The request building of the vLLM and OpenAI completers (their engines and servers are elsewhere)."""

import pytest

import verikit
from verikit.completers.openai import OpenAICompleter
from verikit.completers.vllm import sampling_kwargs
from verikit.errors import ServerError


def test_vllm_sampling_params_keep_stop_strings_and_seed_each_prompt():
    assert sampling_kwargs(8, 0.7, 0.95, 128, ["\n"], 3) == {
        "n": 8,
        "temperature": 0.7,
        "top_p": 0.95,
        "max_tokens": 128,
        "seed": 3,
        "stop": ["\n"],
        "include_stop_str_in_output": True,
    }
    greedy = sampling_kwargs(1, 0.0, 0.9, 16, [], None)
    assert greedy["temperature"] == 0.0 and greedy["top_p"] == 1.0 and "stop" not in greedy


def test_without_vllm_the_completer_says_how_to_get_it():
    try:
        import vllm  # noqa: F401

        pytest.skip("vLLM is installed here")
    except ImportError:
        pass
    with pytest.raises(ImportError, match=r"verikit\[vllm\]"):
        verikit.completer("vllm", model="any")


def test_openai_request_body_and_response_parsing():
    completer = OpenAICompleter("http://127.0.0.1:1/v1/", model="m", max_new_tokens=32)
    assert completer.url == "http://127.0.0.1:1/v1/completions"
    body = completer.request_body("p", 4, temperature=0.5, top_p=1.0, max_new_tokens=None, stop=["\n"], seed=9)
    assert body == {
        "model": "m",
        "prompt": "p",
        "n": 4,
        "temperature": 0.5,
        "top_p": 1.0,
        "max_tokens": 32,
        "stop": ["\n"],
        "include_stop_str_in_output": True,
        "seed": 9,
    }
    response = {
        "choices": [{"index": 1, "text": "b", "stop_reason": "\n"}, {"index": 0, "text": "a\n", "stop_reason": "\n"}],
        "usage": {"completion_tokens": 6},
    }
    # out of order choices are put in order; a server that dropped the stop string gets it back from stop_reason
    assert completer.texts_from(response, 2, ["\n"]) == (["a\n", "b\n"], [3, 3])
    with pytest.raises(ServerError, match="asked for 3 completions, the server returned 2"):
        completer.texts_from(response, 3, ["\n"])


def test_openai_completer_needs_a_base_url(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_BASE_URL"):
        verikit.completer("openai", model="m")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    assert verikit.completer("openai", model="m").url.endswith("/v1/completions")
    with pytest.raises(TypeError, match="batch_size"):  # a server batches itself: not a silently ignored argument
        verikit.completer("openai", model="m", batch_size=512)


def test_vllm_keyed_samples_become_one_seeded_request_each(monkeypatch):
    import sys
    import types

    from verikit.completers.vllm import VLLMCompleter

    fake = types.ModuleType("vllm")
    fake.SamplingParams = lambda **kwargs: kwargs
    monkeypatch.setitem(sys.modules, "vllm", fake)
    asked = []

    class Engine:
        def generate(self, prompts, params, use_tqdm=False):
            asked.extend(zip(prompts, params))
            output = types.SimpleNamespace
            return [
                output(outputs=[output(index=0, text=f"{p}|{q['seed']}", token_ids=[1] * q["seed"])])
                for p, q in zip(prompts, params)
            ]

    completer = object.__new__(VLLMCompleter)  # no engine to start: only the request building is under test
    completer.llm, completer.max_new_tokens, completer.generated_tokens = Engine(), 16, 0
    assert completer.supports_sample_seeds()
    got = completer.complete(["a", "b"], n=2, temperature=0.7, sample_seeds=[[3, 4], [5, 6]])
    assert [(p, q["n"], q["seed"]) for p, q in asked] == [("a", 1, 3), ("a", 1, 4), ("b", 1, 5), ("b", 1, 6)]
    assert got == [["a|3", "a|4"], ["b|5", "b|6"]] and got.token_counts == [[3, 4], [5, 6]]
