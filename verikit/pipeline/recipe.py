"""A recipe: one validated YAML file that says which models, data and settings every pipeline stage uses.

Validation happens in two passes, both before anything is written: pydantic checks the shape (an unknown
field, a wrong type), then :func:`check_names` checks every name against the plugin registries (domain,
datasets, strategy, estimator, backend, selectors, model providers) and every model against what exists.
Either failure is one line naming the recipe file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from verikit.errors import DataError, UnknownNameError

ROLES = ("generator", "completer", "reward_model_base", "policy")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetRef(_Strict):
    name: str = Field(description="Registered dataset, e.g. gsm8k, math500, arith-easy.")
    split: str = "test"
    limit: int | None = Field(default=None, ge=1, description="Only the first N problems.")

    @property
    def key(self) -> str:
        """The folder name of this dataset's files in a run (``gsm8k-test``)."""
        return f"{self.name}-{self.split}"


class Models(_Strict):
    """Each role is a model folder, a hub id, or ``provider:spec`` for a model a plugin provides (trains, downloads)."""

    generator: str = Field(description="Samples the solutions that get annotated.")
    completer: str | None = Field(default=None, description="Rolls out from their step prefixes (default: the generator).")
    reward_model_base: str | None = Field(default=None, description="PRM and ORM start from it (default: the completer).")
    policy: str | None = Field(default=None, description="The model verified by best-of-N and trained by RL (default: the generator).")

    @model_validator(mode="after")
    def _defaults(self) -> Models:
        self.completer = self.completer or self.generator
        self.reward_model_base = self.reward_model_base or self.completer
        self.policy = self.policy or self.generator
        return self


class Backend(_Strict):
    """The generation backend of every stage that samples (annotate, sample); one engine per stage."""

    name: str = Field(default="transformers", description="Registered completer: transformers, vllm, openai …")
    options: dict[str, Any] = Field(default_factory=dict, description=(
        "Passed to the backend where it takes them: dtype, device, batch_size, tensor_parallel_size, "
        "gpu_memory_utilization …"))


class RayOptions(_Strict):
    workers: int = Field(default=2, ge=1, description="Ray actors, each with its own models.")
    address: str | None = Field(default=None, description="An existing Ray cluster ('auto'); default: a local one.")


class AnnotateStage(_Strict):
    datasets: list[DatasetRef]
    samples_per_problem: int = Field(default=15, ge=1, description="The paper: 15 solutions per problem.")
    n_rollouts: int = Field(default=8, ge=1, description="The paper: N = 8.")
    strategy: str = "naive"
    estimator: str = "hard"
    round_size: int = Field(default=2, ge=1)
    temperature: float = Field(default=0.7, ge=0)
    rollout_temperature: float | None = Field(default=None, ge=0)
    max_new_tokens: int = Field(default=1024, ge=1)
    chunk_size: int = Field(default=8, ge=1, description="Problems per resumable chunk.")
    batch_size: int = Field(default=256, ge=1)
    seed: int = 0
    ray: RayOptions | None = Field(default=None, description="Annotate with Ray actors (paper scale) instead of in-process.")


class RewardModelSpec(_Strict):
    """One reward model: trained from the annotations, or an existing one (``path``) used as it is."""

    name: str = Field(description="Its folder under reward_models/ and its name in the selection methods.")
    objective: Literal["prm", "orm", "likelihood"] = "prm"
    labels: Literal["hard", "soft"] = "hard"
    base: str | None = Field(default=None, description="Start from this model (default: models.reward_model_base).")
    path: str | None = Field(default=None, description="Use this trained reward model (folder, hub id, http address); no training.")
    released_convention: bool = Field(default=False, description="Read a folder without verikit_rm.json as Math-Shepherd's release.")
    training: dict[str, Any] = Field(default_factory=dict, description=(
        "verikit.rm.config.PRMConfig fields (learning_rate, epochs, precision, gradient_checkpointing, lora …)."))
    launcher: Literal["in-process", "accelerate"] = Field(default="in-process", description=(
        "accelerate: train in `accelerate launch --config_file accelerate_config` (multi-GPU: DDP, FSDP, ZeRO-3)."))
    accelerate_config: str | None = None

    @model_validator(mode="after")
    def _training_is_a_prm_config(self) -> RewardModelSpec:
        if self.objective == "likelihood":
            unknown = set(self.training) - {"batch_size", "regularization"}
            if unknown:
                raise ValueError(f"a likelihood PRM takes training batch_size and regularization only, not {sorted(unknown)}")
            return self
        from verikit.rm.config import PRMConfig

        try:
            PRMConfig(base="-", objective=self.objective, labels=self.labels, **self.training)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"training.{where}: {first['msg']}") from None
        except TypeError as exc:
            raise ValueError(f"training: {exc}") from None
        if self.launcher == "accelerate" and self.training.get("lora_rank"):
            raise ValueError("LoRA under the accelerate launcher would save adapters, not a merged model; train LoRA in-process")
        if self.launcher == "accelerate" and not self.accelerate_config:
            raise ValueError("launcher 'accelerate' needs accelerate_config (one of the files in benchmarks/math/accelerate/)")
        return self


class SampleStage(_Strict):
    datasets: list[DatasetRef]
    samples: int = Field(default=256, ge=1, description="N per problem (the paper: best-of-256).")
    temperature: float = Field(default=0.7, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    max_new_tokens: int = Field(default=1024, ge=1)
    greedy: bool = Field(default=True, description="Also decode one greedy solution per problem.")
    chunk_size: int = Field(default=32, ge=1, description="Problems per saved shard (the unit of resumption).")
    seed: int = 0


class ScoreStage(_Strict):
    aggregation: str = Field(default="min", description="Step scores → solution score (the paper: min).")
    batch_size: int = Field(default=16, ge=1)


class Method(_Strict):
    selector: str = Field(description="Registered selector: self-consistency, best-of-n, sc+rm …")
    reward_model: str | None = None


class SelectStage(_Strict):
    methods: dict[str, Method] | None = Field(default=None, description=(
        "Table rows; default: SC, then best-of-N and SC+RM for every reward model."))
    ns: list[int] | None = Field(default=None, description="Curve points (default: powers of two up to samples).")
    repeats: int = Field(default=20, ge=1)
    seed: int = 0


class RLMethod(_Strict):
    algo: Literal["step-ppo", "orm-ppo", "rft", "grpo-process"]
    reward_model: str | None = None


class RLStage(_Strict):
    """Table 2: each method trains the policy on ``dataset``; every result is a greedy accuracy on ``eval``."""

    dataset: DatasetRef
    methods: dict[str, RLMethod]
    eval: list[DatasetRef]
    settings: dict[str, Any] = Field(default_factory=dict, description=(
        "verikit.rl.config.RLConfig fields (steps, train_problems, rft_samples, ppo: {...}, grpo: {...})."))
    max_new_tokens: int = Field(default=512, ge=1, description="Longest greedy evaluation answer.")

    @model_validator(mode="after")
    def _settings_are_an_rl_config(self) -> RLStage:
        from verikit.rl.config import RLConfig

        for key in ("algo", "policy", "dataset", "rm"):
            if key in self.settings:
                raise ValueError(f"settings.{key} comes from the recipe (methods, models, dataset), not from settings")
        try:
            RLConfig(algo="rft", policy="-", dataset="-", **self.settings)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ValueError(f"settings.{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
        return self


class Recipe(_Strict):
    """Everything a run needs. Stages the recipe leaves out are not run (a Table 2 recipe may have no sample stage)."""

    name: str
    description: str = ""
    domain: str | None = Field(default=None, description="Domain of every dataset (default: each problem's own).")
    models: Models
    model_notes: dict[str, str] = Field(default_factory=dict, description="Per role: what differs from the paper's model.")
    prompt_template: str | None = Field(default=None, description="'{question}' → the generator's prompt (default: the domain's).")
    backend: Backend = Field(default_factory=Backend)
    annotate: AnnotateStage | None = None
    reward_models: list[RewardModelSpec] = Field(default_factory=list)
    sample: SampleStage | None = None
    score: ScoreStage = Field(default_factory=ScoreStage)
    select: SelectStage = Field(default_factory=SelectStage)
    rl: RLStage | None = None
    paper: dict[str, dict[str, float]] = Field(default_factory=dict, description=(
        "The paper's figures (%) to print beside the measured ones: {'gsm8k-test': {'prm': 93.2, …}}."))
    paper_note: str = ""

    @field_validator("prompt_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return value
        fields = set(re.findall(r"(?<!\{)\{([^{}]*)\}(?!\})", value))
        if fields != {"question"}:
            raise ValueError(f"a prompt template has exactly the field {{question}}, found {sorted(fields) or 'none'}")
        return value

    @model_validator(mode="after")
    def _references(self) -> Recipe:
        names = [rm.name for rm in self.reward_models]
        if len(set(names)) != len(names):
            raise ValueError(f"reward model names repeat: {names}")
        trains = any(rm.path is None for rm in self.reward_models)
        if trains and self.annotate is None:
            raise ValueError("reward_models to train need an annotate stage (or a path to a trained one)")
        used = [(f"select.methods.{k}", m.reward_model) for k, m in (self.select.methods or {}).items()]
        used += [(f"rl.methods.{k}", m.reward_model) for k, m in (self.rl.methods.items() if self.rl else ())]
        for where, name in used:
            if name is not None and name not in names:
                raise ValueError(f"{where}: reward model {name!r} is not in reward_models ({', '.join(names) or 'none'})")
        for key, method in (self.rl.methods.items() if self.rl else ()):
            if method.algo != "rft" and method.reward_model is None:
                raise ValueError(f"rl.methods.{key}: {method.algo} needs a reward_model")
        return self

    def methods(self) -> dict[str, tuple[str, str | None]]:
        """The selection table: row → (selector, reward model or None)."""
        if self.select.methods is not None:
            return {k: (m.selector, m.reward_model) for k, m in self.select.methods.items()}
        table: dict[str, tuple[str, str | None]] = {"self-consistency": ("self-consistency", None)}
        for rm in self.reward_models:
            table[rm.name] = ("best-of-n", rm.name)
            table[f"sc+{rm.name}"] = ("sc+rm", rm.name)
        return table

    def stages(self) -> list[str]:
        """The stages this recipe has, in order."""
        present = {"models": True, "annotate": self.annotate is not None,
                   "train": any(rm.path is None for rm in self.reward_models), "sample": self.sample is not None,
                   "score": self.sample is not None and bool(self.reward_models), "select": self.sample is not None,
                   "rl": self.rl is not None, "report": True}
        return [stage for stage, here in present.items() if here]


STAGES = ("models", "annotate", "train", "sample", "score", "select", "rl", "report")


def set_override(data: dict, assignment: str) -> None:
    """Apply ``a.b.c=value`` (value parsed as YAML) to the recipe mapping ``data``; list items by index."""
    import yaml

    path, sep, raw = assignment.partition("=")
    if not sep or not path:
        raise DataError(f"an override is key.path=value, got {assignment!r}")
    value = yaml.safe_load(raw)
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def recipe_source(source: str | Path) -> Path:
    """The file of ``source``: a path, or the name of a recipe a plugin registered (``register_recipes``)."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        return path
    from verikit import components

    try:
        return Path(components.lookup("recipes", str(source)))
    except UnknownNameError as exc:
        raise DataError(str(exc), path=source) from None


def load_recipe(source: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> tuple[Recipe, Path]:
    """The validated recipe of a file or registered name, with ``key=value`` overrides applied; and its file.

    Only the shape is checked here; :func:`check_names` checks the names against the registries.
    """
    import yaml

    path = recipe_source(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read the recipe: {str(exc).splitlines()[0]}", path=path) from None
    if not isinstance(data, dict):
        raise DataError("a recipe is a YAML mapping", path=path)
    for assignment in overrides:
        try:
            set_override(data, assignment)
        except (ValueError, IndexError, TypeError, AttributeError) as exc:
            raise DataError(f"cannot apply override {assignment!r}: {exc}", path=path) from None
    from verikit.records import validated

    return validated(Recipe, data, path=path), path


def check_names(recipe: Recipe, path: str | Path, check_models: bool = True) -> None:
    """Every registered name and every model the recipe mentions exists; else a DataError naming the field."""
    from verikit import components

    def registered(kind: str, name: str, field: str) -> None:
        try:
            components.lookup(kind, name)
        except UnknownNameError as exc:
            raise DataError(str(exc), path=path, field=field) from None

    def dataset(ref: DatasetRef, field: str) -> None:
        registered("datasets", ref.name, f"{field}.name")

    if recipe.domain:
        registered("domains", recipe.domain, "domain")
    registered("completers", recipe.backend.name, "backend.name")
    if recipe.annotate:
        for i, ref in enumerate(recipe.annotate.datasets):
            dataset(ref, f"annotate.datasets.{i}")
        registered("strategies", recipe.annotate.strategy, "annotate.strategy")
        registered("estimators", recipe.annotate.estimator, "annotate.estimator")
    if recipe.sample:
        for i, ref in enumerate(recipe.sample.datasets):
            dataset(ref, f"sample.datasets.{i}")
    from verikit.metrics import AGGREGATIONS

    if recipe.score.aggregation not in AGGREGATIONS:
        raise DataError(f"unknown aggregation {recipe.score.aggregation!r} (one of {', '.join(AGGREGATIONS)})", path=path,
                        field="score.aggregation")
    for row, (selector, _) in recipe.methods().items():
        registered("selectors", selector, f"select.methods.{row}.selector")
    if recipe.rl:
        dataset(recipe.rl.dataset, "rl.dataset")
        for i, ref in enumerate(recipe.rl.eval):
            dataset(ref, f"rl.eval.{i}")
    if check_models:
        _check_precision(recipe, path)
        from verikit.pipeline.models import check_model

        for role in ROLES:
            check_model(getattr(recipe.models, role), path, f"models.{role}")
        for i, rm in enumerate(recipe.reward_models):
            if rm.base:
                check_model(rm.base, path, f"reward_models.{i}.base")
            if rm.path and not rm.path.startswith(("http://", "https://")):
                from verikit.models import RM_MANIFEST

                if not (Path(rm.path).expanduser() / RM_MANIFEST).is_file():  # a likelihood PRM has no weights of its own
                    check_model(rm.path, path, f"reward_models.{i}.path")


def _check_precision(recipe: Recipe, path) -> None:
    """A GPU-only precision asked for on a machine without CUDA fails now, not after hours of annotation."""
    wanted = [(f"reward_models.{i}.training.precision", rm.training.get("precision", "auto"))
              for i, rm in enumerate(recipe.reward_models) if rm.path is None and rm.launcher == "in-process"]
    if recipe.rl:
        wanted.append(("rl.settings.ppo.precision", recipe.rl.settings.get("ppo", {}).get("precision", "auto")))
    gpu_only = [(field, value) for field, value in wanted if str(value).endswith("-mixed")]
    if gpu_only:
        import torch

        if not torch.cuda.is_available():
            field, value = gpu_only[0]
            raise DataError(f"precision {value!r} needs a CUDA GPU and this machine has none (use auto or fp32, or --smoke)",
                            path=path, field=field)
