"""`verikit serve` as a real server on 127.0.0.1, with the OpenAI-compatible completer as its client."""

import json

import httpx
import pytest

import verikit
from verikit.completers.openai import OpenAICompleter
from verikit.components import load_scorer
from verikit.errors import ServerError
from verikit.serve import ServeLimits, create_app
from verikit.serve_harness import BackgroundServer

PROMPTS = ["Step 1: 2 + 3 = 5\n", "Question: what is 7 * 6?\nStep 1:", "x"]


@pytest.fixture(scope="module")
def tiny(tiny_lm):
    return tiny_lm


@pytest.fixture(scope="module")
def local(tiny):
    return verikit.completer("transformers", model=tiny, device="cpu")


@pytest.fixture(scope="module")
def server(tiny, local):
    app = create_app(
        local,
        load_scorer(tiny, released_convention=True),
        model_name="tiny",
        limits=ServeLimits(max_n=8, max_tokens=64, max_prompt_chars=500),
    )
    with BackgroundServer(app) as url:
        yield url


def test_health_and_models(server):
    health = httpx.get(server + "/health").json()
    assert health["status"] == "ok" and health["model"] == "tiny" and health["prm"]
    assert httpx.get(server + "/v1/models").json()["data"][0]["id"] == "tiny"


def test_served_completions_equal_local_ones_through_the_openai_completer(server, local):
    remote = OpenAICompleter(server + "/v1", model="tiny", max_concurrency=3)
    for kwargs in (dict(temperature=0, max_new_tokens=12), dict(temperature=1.0, max_new_tokens=12, stop=["\n", "."])):
        served = remote.complete(PROMPTS, n=2, seed=None if kwargs["temperature"] == 0 else 0, **kwargs)
        if kwargs["temperature"] == 0:
            assert served == local.complete(PROMPTS, n=2, **kwargs)
        assert [len(s) for s in served] == [2, 2, 2]
        for sample in served:  # stop strings come back included, and nothing runs past them
            for text in sample:
                assert not any(s in text[:-1] for s in kwargs.get("stop", []))


def test_stop_strings_are_cut_off_unless_asked_for_as_openai_does(server):
    body = {"prompt": PROMPTS[0], "n": 4, "temperature": 1.0, "max_tokens": 30, "stop": ["\n"], "seed": 1}
    plain = httpx.post(server + "/v1/completions", json=body).json()["choices"]
    kept = httpx.post(server + "/v1/completions", json={**body, "include_stop_str_in_output": True}).json()["choices"]
    for a, b in zip(plain, kept):
        assert b["text"] == a["text"] + ("\n" if a["stop_reason"] == "\n" else "")
        assert a["finish_reason"] in ("stop", "length")


def test_served_step_scores_equal_the_local_scorer(server, tiny):
    items = [{"question": "What is 2 + 3?", "steps": ["Step 1: 2 + 3 = 5", "The answer is 5."]}]
    answer = httpx.post(server + "/v1/score", json={"items": items, "aggregation": "prod"}).json()
    local_scores = load_scorer(tiny, released_convention=True).score([items[0]["question"]], [items[0]["steps"]])[0]
    assert answer["data"][0]["step_scores"] == pytest.approx(local_scores, abs=1e-6)
    assert answer["data"][0]["score"] == pytest.approx(local_scores[0] * local_scores[1], abs=1e-6)


@pytest.mark.parametrize(
    "path, body, status, words",
    [
        ("/v1/completions", {"prompt": "x" * 501}, 413, "at most 500"),
        ("/v1/completions", {"prompt": "x", "n": 9}, 422, "n=9"),
        ("/v1/completions", {"prompt": "x", "max_tokens": 65}, 422, "max_tokens=65"),
        ("/v1/completions", {"prompt": "x", "best_of": 3}, 422, "best_of"),
        ("/v1/completions", {"n": 1}, 422, "prompt"),
        ("/v1/score", {"items": [{"question": "q", "steps": []}]}, 422, "steps"),
        ("/v1/score", {"items": [{"question": "q", "steps": ["a"]}], "aggregation": "max"}, 422, "aggregation"),
        ("/v1/score", {"items": [{"question": "q", "steps": ["a ки b"]}]}, 422, "step-tag"),
    ],
)
def test_bad_requests_get_clear_errors(server, path, body, status, words):
    response = httpx.post(server + path, json=body)
    assert response.status_code == status
    assert words in json.dumps(response.json())


def test_the_client_names_refusals_and_unreachable_servers(server):
    with pytest.raises(ServerError, match="422"):
        OpenAICompleter(server + "/v1").complete(["x"], n=9)
    with pytest.raises(ServerError, match="no answer after 2 attempts"):
        OpenAICompleter("http://127.0.0.1:9/v1", retries=1, backoff=0.01, timeout=2).complete(["x"])


def test_a_served_prm_scores_as_the_local_one_through_the_remote_scorer(server, tiny):
    from verikit.rm.remote import RemoteScorer

    questions = ["What is 2 + 3?", "7 * 6?", "x"]
    steps = [["Step 1: 2 + 3 = 5", "The answer is 5."], ["Step 1: 7 * 6 = 42"], ["a", "b", "c"]]
    remote = verikit.scorer(server, batch_size=2)  # an address: the registry's "remote" kind
    assert isinstance(remote, RemoteScorer)
    local = load_scorer(tiny, released_convention=True).score(questions, steps)
    got = remote.score(questions, steps)  # two requests of at most 2 solutions each
    assert [len(s) for s in got] == [len(s) for s in local]
    assert [v for s in got for v in s] == pytest.approx([v for s in local for v in s], abs=1e-6)
    with pytest.raises(ServerError, match="422"):
        remote.score(["q"], [["a ки b"]])  # the server refuses a step holding the tag; the client names it
