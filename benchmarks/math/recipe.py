"""A reproduction recipe: which models, which data, and the paper's settings, as a validated YAML file."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class DatasetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    split: str
    limit: int | None = None


class AnnotateStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    datasets: list[DatasetSpec]
    samples_per_problem: int = 15  # the paper: 15 solutions per problem
    n_rollouts: int = 8  # the paper: N = 8
    strategy: str = "naive"
    estimator: str = "hard"
    temperature: float = 0.7
    max_new_tokens: int = 1024
    batch_size: int = 256


class TrainStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: str = "hard"
    learning_rate: float = 2e-6
    epochs: float = 1.0
    batch_size: int = 8
    gradient_accumulation_steps: int = 8
    max_length: int = 1024


class VerifyStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    datasets: list[DatasetSpec]
    samples: int = 256  # best-of-256
    temperature: float = 0.7
    max_new_tokens: int = 1024
    aggregation: str = "min"
    batch_size: int = 256


class Recipe(BaseModel):
    """Models are folders or hub ids; ``paper`` holds the numbers the run should be compared with."""

    model_config = ConfigDict(extra="forbid")
    name: str
    backend: str = "transformers"
    generator: str = Field(description="Samples the solutions that get annotated.")
    completer: str = Field(description="Rolls out from their step prefixes.")
    reward_model_base: str = Field(description="The PRM and ORM start from this causal LM.")
    policy: str = Field(description="The model whose best-of-N is verified.")
    annotate: AnnotateStage
    train: TrainStage = TrainStage()
    verify: VerifyStage
    paper: dict[str, dict[str, float]] = Field(default_factory=dict)


def load_recipe(path: str | Path) -> Recipe:
    from verikit.errors import DataError

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read the recipe: {exc}", path=path) from None
    from pydantic import ValidationError

    if not isinstance(data, dict):
        raise DataError("a recipe is a YAML mapping", path=path)
    try:
        return Recipe(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise DataError(f"{first['msg']} ({len(exc.errors())} problem(s) in all)", path=path, field=field) from None
