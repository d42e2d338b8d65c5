"""What ``verikit serve`` accepts: its limits and its request bodies, every value validated (422 names the field)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Sampling temperatures between 0 and this are refused: dividing logits by 1e-300 overflows to inf/NaN.
MIN_TEMPERATURE = 1e-3
MAX_SEED = 2**63 - 1
API_KEY_ENV = "VERIKIT_API_KEY"


class ServeLimits(BaseModel):
    """What one request and the whole queue may ask of the server; every limit is checked before any work."""

    model_config = ConfigDict(extra="forbid")

    max_prompt_chars: int = Field(
        default=32_000,
        ge=1,
        description="Longest prompt (or scored solution) in characters; "
        "checked before tokenizing, then tokens against the model's positions.",
    )
    max_n: int = Field(default=64, ge=1, description="Largest n per request.")
    max_tokens: int = Field(default=1024, ge=1, description="Largest max_tokens per request.")
    max_steps: int = Field(default=512, ge=1, description="Most steps in one scored solution.")
    max_batch: int = Field(default=64, ge=1, description="Prompts (or solutions to score) in one request.")
    max_queue: int = Field(default=64, ge=0, description="Requests that may wait for the model; one more gets 503.")
    max_request_tokens: int = Field(
        default=262_144, ge=1, description="Largest prompts x n x max_tokens of one request."
    )
    max_queued_tokens: int = Field(
        default=1_048_576, ge=1, description="Largest prompts x n x max_tokens waiting in the queue."
    )
    max_stop: int = Field(default=4, ge=0, description="Stop strings per request (OpenAI's limit).")
    max_stop_chars: int = Field(default=64, ge=1, description="Characters per stop string.")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1, description="Largest request body.")
    body_timeout: float = Field(default=30.0, gt=0, description="Seconds to receive a whole request body (then 408).")
    header_timeout: float = Field(default=10.0, gt=0, description="Seconds to receive a request's headers.")
    max_connections: int = Field(default=256, ge=1, description="Open connections; beyond them uvicorn answers 503.")


def _valid_unicode(value):
    """Strings must be encodable text: a lone surrogate (``"\\ud800"`` in JSON) would fail in the tokenizer."""
    for text in [value] if isinstance(value, str) else (value or []):
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text must be valid Unicode (it holds a lone surrogate)") from None
    return value


class CompletionRequest(BaseModel):
    """The subset of OpenAI's completions request that verikit honours (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str | None = None
    prompt: str | list[str]
    n: int = Field(default=1, ge=1)
    temperature: float = Field(default=1.0, ge=0.0, le=100.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(default=16, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    include_stop_str_in_output: bool = False
    user: str | None = None
    # OpenAI's fields that verikit does not implement: their neutral values (what clients send by default) are
    # accepted, any other value is refused naming the field
    stream: bool | None = None
    echo: bool | None = None
    best_of: int | None = None
    logprobs: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None
    suffix: str | None = None
    stream_options: dict | None = None

    _unicode = field_validator("prompt", "stop", "model", "user")(_valid_unicode)

    @model_validator(mode="after")
    def _only_neutral_unsupported_values(self) -> CompletionRequest:
        neutral = {
            "stream": (None, False),
            "echo": (None, False),
            "best_of": (None, 1),
            "logprobs": (None,),
            "presence_penalty": (None, 0.0),
            "frequency_penalty": (None, 0.0),
            "logit_bias": (None, {}),
            "suffix": (None, ""),
            "stream_options": (None,),
        }
        for name, values in neutral.items():
            if getattr(self, name) not in values:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} is not supported by verikit serve (only "
                    f"{' or '.join(repr(v) for v in values)})"
                )
        if self.best_of not in (None, 1) and self.best_of != self.n:
            raise ValueError("best_of is not supported")
        return self

    @field_validator("temperature")
    @classmethod
    def _usable_temperature(cls, value: float) -> float:
        if 0 < value < MIN_TEMPERATURE:
            raise ValueError(f"temperature must be 0 (greedy) or at least {MIN_TEMPERATURE}")
        return value


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    steps: list[str] = Field(min_length=1)

    _unicode = field_validator("question", "steps")(_valid_unicode)


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ScoreItem] = Field(min_length=1)
    aggregation: str = "min"
