"""`verikit serve` driven by OpenAI's official Python client: what its wrappers send by default is accepted, what
verikit does not implement is refused in OpenAI's error shape naming the field, and a request without a seed gets
a fresh one (returned in the response)."""

import httpx
import pytest

import verikit
from verikit.serve import ServeLimits, create_app
from verikit.serve_harness import BackgroundServer

openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def client(tiny_lm):
    local = verikit.completer("transformers", model=tiny_lm, device="cpu")
    app = create_app(local, None, model_name="tiny", limits=ServeLimits(max_n=8, max_tokens=32))
    with BackgroundServer(app) as url:
        yield openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0), url


def test_completions_with_the_clients_neutral_defaults(client):
    api, _ = client
    response = api.completions.create(
        model="tiny",
        prompt=["Step 1:", "x"],
        n=2,
        max_tokens=8,
        temperature=1.0,
        seed=3,
        stream=False,
        echo=False,
        best_of=1,
        presence_penalty=0,
        frequency_penalty=0,
        logprobs=None,
    )
    assert len(response.choices) == 4 and all(isinstance(c.text, str) for c in response.choices)
    assert response.usage.prompt_tokens > 0 and response.usage.total_tokens == (
        response.usage.prompt_tokens + response.usage.completion_tokens
    )
    again = api.completions.create(model="tiny", prompt=["Step 1:", "x"], n=2, max_tokens=8, temperature=1.0, seed=3)
    assert [c.text for c in again.choices] == [c.text for c in response.choices]  # one seed, one sample


def test_unsupported_values_are_refused_naming_the_field_in_openais_shape(client):
    api, _ = client
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        api.completions.create(model="tiny", prompt="x", max_tokens=4, presence_penalty=0.5)
    assert refused.value.status_code == 422
    body = refused.value.body
    assert body["type"] == "invalid_request_error" and "presence_penalty" in body["message"]
    with pytest.raises(openai.UnprocessableEntityError, match="n=9 exceeds"):
        api.completions.create(model="tiny", prompt="x", max_tokens=4, n=9)


def test_requests_without_a_seed_are_not_copies_of_each_other(client):
    api, url = client
    texts, seeds = set(), set()
    for _ in range(6):
        response = httpx.post(url + "/v1/completions", json={"prompt": "Step 1:", "max_tokens": 12, "temperature": 1.0})
        body = response.json()
        texts.add(body["choices"][0]["text"])
        seeds.add(body["seed"])
    assert len(seeds) == 6 and len(texts) > 1
    replay = httpx.post(
        url + "/v1/completions", json={"prompt": "Step 1:", "max_tokens": 12, "temperature": 1.0, "seed": body["seed"]}
    ).json()
    assert replay["choices"][0]["text"] == body["choices"][0]["text"]  # the returned seed replays the sample


def test_models_and_one_model(client):
    api, _ = client
    assert [m.id for m in api.models.list().data] == ["tiny"]
    assert api.models.retrieve("tiny").id == "tiny"
    with pytest.raises(openai.NotFoundError):
        api.models.retrieve("other")
