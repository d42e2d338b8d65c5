"""A recipe: one validated YAML file that says which models, data and settings every pipeline stage uses.

A stage's section *is* the library's configuration of that work, not a copy of it: ``annotate`` is
:class:`~verikit.annotation.config.AnnotationSettings` plus the datasets, a reward model's ``training`` is its kind's
settings (:class:`~verikit.rm.config.PRMTrainingSettings` for the tag head), ``rl.settings`` is
:class:`~verikit.rl.config.RLSettings`, ``finetune`` models are :class:`~verikit.sft.SFTSettings`. A field added to
one of them is a recipe field, a CLI option and a library argument at once, with one default and one help.

A plugin's stage (:mod:`verikit.pipeline.stage`) reads a top-level section of its own, validated by the stage's
``settings`` model when the recipe is loaded. Names (domain, datasets, strategy, …) and models are checked by
:mod:`verikit.pipeline.checks` before anything is written; every failure is one line naming the file and field.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from verikit.annotation.config import AnnotationSettings
from verikit.errors import DataError, UnknownNameError
from verikit.rl.config import RLSettings
from verikit.sft import SFTSettings

ROLES = ("generator", "completer", "reward_model_base", "policy")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetRef(_Strict):
    name: str = Field(description="Registered dataset, e.g. gsm8k, math500, math-test, arith-easy.")
    split: str = "test"
    limit: int | None = Field(default=None, ge=1, description="Only the first N problems.")

    @property
    def key(self) -> str:
        """The folder name of this dataset's files in a run (``gsm8k-test``)."""
        return f"{self.name}-{self.split}"


class Models(_Strict):
    """Each role is a model folder, a hub id, ``provider:spec`` for a model a plugin provides (trains, downloads), or
    ``finetuned:NAME`` for a model this run's finetune stage makes."""

    generator: str | list[str] = Field(
        description="Samples the solutions that get annotated; a list: each samples K per "
        "problem (the paper: two weak models)."
    )
    completer: str | None = Field(
        default=None, description="Rolls out from their step prefixes (default: the first generator)."
    )
    reward_model_base: str | None = Field(
        default=None, description="PRM and ORM start from it (default: the completer)."
    )
    policy: str | None = Field(
        default=None, description="The model verified by best-of-N and trained by RL (default: the first generator)."
    )

    @model_validator(mode="after")
    def _defaults(self) -> Models:
        self.completer = self.completer or self.generators[0]
        self.reward_model_base = self.reward_model_base or self.completer
        self.policy = self.policy or self.generators[0]
        return self

    @property
    def generators(self) -> list[str]:
        return [self.generator] if isinstance(self.generator, str) else list(self.generator)

    def values(self) -> list[tuple[str, str]]:
        """``(field, model)`` for every model the roles name (``generator.1`` for the second generator)."""
        named = [
            (f"generator.{i}" if len(self.generators) > 1 else "generator", m) for i, m in enumerate(self.generators)
        ]
        return named + [(role, getattr(self, role)) for role in ROLES[1:]]


class Backend(_Strict):
    """The generation backend of every stage that samples (annotate, sample); one engine per stage."""

    name: str = Field(default="transformers", description="Registered completer: transformers, vllm, openai …")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Passed to the backend where it takes them: dtype, device, batch_size, tensor_parallel_size, "
            "gpu_memory_utilization …"
        ),
    )


class RayOptions(_Strict):
    workers: int = Field(default=2, ge=1, description="Ray actors, each with its own models.")
    address: str | None = Field(default=None, description="An existing Ray cluster ('auto'); default: a local one.")


class AnnotateStage(AnnotationSettings):
    """The annotate stage: :class:`~verikit.annotation.config.AnnotationSettings` for each of its datasets."""

    datasets: list[DatasetRef]
    ray: RayOptions | None = Field(
        default=None, description="Annotate with Ray actors (paper scale) instead of in-process."
    )


class Launch(_Strict):
    """Where a training runs: in this process, or in ``accelerate launch`` (DDP, FSDP, ZeRO-3 over the machine's
    GPUs)."""

    launcher: str = Field(
        default="in-process",
        pattern="^(in-process|accelerate)$",
        description=(
            "accelerate: train in `accelerate launch --config_file accelerate_config` (multi-GPU: DDP, FSDP, ZeRO-3)."
        ),
    )
    accelerate_config: str | None = Field(
        default=None, description="An accelerate config file (relative to the recipe)."
    )

    @model_validator(mode="after")
    def _config_for_accelerate(self):
        if self.launcher == "accelerate" and not self.accelerate_config:
            raise ValueError(
                "launcher 'accelerate' needs accelerate_config (verikit-math ships configs: ddp, fsdp, zero3, "
                "zero3-offload)"
            )
        return self


class FinetuneSpec(Launch):
    """One supervised fine-tuning: ``base`` trained on ``datasets`` into ``finetuned/<name>`` (``finetuned:NAME``)."""

    name: str = Field(description="Its folder under finetuned/, and the model's name in roles: finetuned:NAME.")
    base: str = Field(description="The model to fine-tune (folder, hub id, provider:spec).")
    datasets: list[DatasetRef] = Field(
        description="Training data: problems with gold solutions (the paper: MetaMathQA)."
    )
    settings: SFTSettings = Field(default_factory=SFTSettings)

    @model_validator(mode="after")
    def _lora_in_process(self) -> FinetuneSpec:
        if self.launcher == "accelerate" and self.settings.lora_rank:
            raise ValueError(
                "LoRA under the accelerate launcher would save adapters, not a merged model; train LoRA in-process"
            )
        return self


class FinetuneStage(_Strict):
    """The paper fine-tunes its generators and completer on MetaMathQA (3 epochs) before anything else."""

    models: list[FinetuneSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> FinetuneStage:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"finetuned model names repeat: {names}")
        return self


class RewardModelSpec(Launch):
    """One reward model: trained from the annotations, or an existing one (``path``) used as it is."""

    name: str = Field(description="Its folder under reward_models/ and its name in the selection methods.")
    kind: str = Field(
        default="prm",
        description="Registered reward-model kind: prm, orm (the paper), likelihood (beyond the paper), or a plugin's.",
    )
    labels: str = Field(
        default="hard", pattern="^(hard|soft)$", description="hard: 0/1 step targets; soft: rollout fractions."
    )
    base: str | None = Field(default=None, description="Start from this model (default: models.reward_model_base).")
    path: str | None = Field(
        default=None,
        description=(
            "Use this trained reward model (folder, hub id, http address; '{runs}/RECIPE/reward_models/NAME' is "
            "another "
            "recipe's, in the same parent output folder); no training."
        ),
    )
    released_convention: bool = Field(
        default=False, description="Read a folder without verikit_rm.json as Math-Shepherd's release."
    )
    datasets: list[str] | None = Field(
        default=None,
        description=(
            "Keys of the annotation datasets it trains on (gsm8k-train …); default: every one (the paper: one RM per "
            "dataset)."
        ),
    )
    scores: list[str] | None = Field(
        default=None, description=("Keys of the sample datasets it scores (gsm8k-test …); default: every one.")
    )
    aggregation: str | None = Field(
        default=None,
        description=(
            "Step scores → solution score for this model (default: its kind's: last for an ORM, else "
            "score.aggregation)."
        ),
    )
    training: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "The kind's training settings (the tag head's: verikit.rm.config.PRMTrainingSettings — learning_rate, "
            "epochs, "
            "max_length, precision, gradient_checkpointing, lora_rank …)."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _objective_is_kind(cls, values: Any) -> Any:
        if isinstance(values, dict) and "objective" in values:
            warnings.warn(
                "reward_models[*].objective is now 'kind' (prm, orm, likelihood, …)", DeprecationWarning, stacklevel=2
            )
            values = dict(values)
            values.setdefault("kind", values.pop("objective"))
        return values

    @model_validator(mode="after")
    def _training_is_the_kinds_settings(self) -> RewardModelSpec:
        if self.path is not None:
            return self
        try:
            self.training_settings()
        except UnknownNameError as exc:
            raise ValueError(f"kind: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
            raise ValueError(f"training.{where}: {message}") from None
        if self.launcher == "accelerate" and self.training.get("lora_rank"):
            raise ValueError(
                "LoRA under the accelerate launcher would save adapters, not a merged model; train LoRA in-process"
            )
        return self

    def training_settings(self):
        """``training`` as the kind's settings model (validated)."""
        from verikit.records import strict_settings
        from verikit.rm.kinds import trainable_kind

        return strict_settings(trainable_kind(self.kind).settings, self.training)

    def aggregation_under(self, recipe_default: str) -> str:
        from verikit import components

        return self.aggregation or components.reward_model_kind(self.kind).aggregation or recipe_default


class SampleStage(_Strict):
    datasets: list[DatasetRef]
    samples: int = Field(default=256, ge=1, description="N per problem (the paper: best-of-256).")
    repeats: int = Field(
        default=1,
        ge=1,
        description=(
            "Independent sets of N samples per problem, each selected from on its own; the table reports their mean "
            "and "
            "spread (the paper: the mean of 3 samplings)."
        ),
    )
    policy: str | None = Field(
        default=None,
        description=(
            "The model sampled (default: models.policy); rl:METHOD is the policy this run's rl stage trained with "
            "METHOD "
            "(the paper's Table 3: step-PPO, then verification)."
        ),
    )
    temperature: float = Field(default=0.7, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    max_new_tokens: int = Field(default=1024, ge=1)
    greedy: bool = Field(default=True, description="Also decode one greedy solution per problem.")
    chunk_size: int = Field(default=32, ge=1, description="Problems per saved shard (the unit of resumption).")
    seed: int = 0


class ScoreStage(_Strict):
    aggregation: str = Field(
        default="min",
        description="Step scores → solution score (the paper: min) for reward models "
        "whose kind and spec do not say otherwise.",
    )
    batch_size: int = Field(default=16, ge=1)


class Method(_Strict):
    selector: str = Field(description="Registered selector: self-consistency, best-of-n, sc+rm …")
    reward_model: str | dict[str, str] | None = Field(
        default=None,
        description=("The reward model, or one per sample dataset ({gsm8k-test: prm-gsm8k, math500-test: prm-math})."),
    )

    def reward_model_for(self, dataset: str) -> str | None:
        return self.reward_model.get(dataset) if isinstance(self.reward_model, dict) else self.reward_model


class SelectStage(_Strict):
    methods: dict[str, Method] | None = Field(
        default=None, description=("Table rows; default: SC, then best-of-N and SC+RM for every reward model.")
    )
    ns: list[int] | None = Field(default=None, description="Curve points (default: powers of two up to samples).")
    repeats: int = Field(default=20, ge=1, description="Random subsets per curve point below N.")
    seed: int = 0


class RLMethod(_Strict):
    algo: str = Field(description="Registered RL algorithm: rft, orm-ppo, step-ppo, grpo-process, or a plugin's.")
    reward_model: str | None = None


class RLStage(_Strict):
    """Table 2: each method trains the policy on ``datasets``; every result is a greedy accuracy on ``eval``."""

    datasets: list[DatasetRef] = Field(
        description="Train problems are drawn from all of them (the paper: GSM8K and MATH)."
    )
    methods: dict[str, RLMethod]
    eval: list[DatasetRef]
    domain: str | None = Field(
        default=None,
        description="The one domain of the RL problems (default: the recipe's, or the datasets' when they share one).",
    )
    settings: RLSettings = Field(default_factory=RLSettings)
    max_new_tokens: int = Field(default=512, ge=1, description="Longest greedy evaluation answer.")

    @model_validator(mode="before")
    @classmethod
    def _one_dataset(cls, values: Any) -> Any:
        if isinstance(values, dict) and "dataset" in values:
            values = dict(values)
            values.setdefault("datasets", [values.pop("dataset")])
        return values

    @field_validator("settings", mode="before")
    @classmethod
    def _settings_from_the_recipe(cls, settings: Any) -> Any:
        if isinstance(settings, dict):
            for key in ("algo", "policy", "dataset", "datasets", "rm"):
                if key in settings:
                    raise ValueError(f"{key} comes from the recipe (methods, models, datasets), not from settings")
        return settings


class HumanLabelsStage(_Strict):
    """The paper's check of automatic labels against human ones: the completer's Monte Carlo labels of human-labelled
    solutions (ProcessBench: the first wrong step) against the human verdicts."""

    sources: list[str] = Field(
        default_factory=lambda: ["processbench_dev", "processbench_dev_correct"],
        description=("ProcessBench files or folders (relative to the recipe, or to the data folder)."),
    )
    gold: list[str] = Field(
        default_factory=lambda: ["gsm8k-test", "gsm8k-train", "math500", "math-train", "math-test"],
        description="Datasets whose problems give the rows their gold answers (joined by text).",
    )
    limit: int | None = Field(default=None, ge=1, description="Rows per file.")
    n_rollouts: int = Field(default=8, ge=1, description="N rollouts per step (the paper: 8).")
    estimator: str = Field(default="hard")
    rollout_temperature: float = Field(default=0.7, ge=0)
    max_new_tokens: int = Field(default=1024, ge=1)
    batch_size: int = Field(default=256, ge=1)
    seed: int = 0


class Recipe(BaseModel):
    """Everything a run needs. Stages the recipe leaves out are not run (a Table 2 recipe may have no sample stage)."""

    model_config = ConfigDict(extra="allow")  # plugin stages' sections; checked against the stage registry

    name: str = Field(description="The recipe's name (what `verikit reproduce --recipe NAME` finds).")
    description: str = Field(default="", description="One line shown by `verikit recipes` and in the report.")
    domain: str | None = Field(default=None, description="Domain of every dataset (default: each problem's own).")
    models: Models = Field(description="The model of each role (section `models`).")
    model_notes: dict[str, str] = Field(
        default_factory=dict, description="Per role: what differs from the paper's model."
    )
    prompt_template: str | None = Field(
        default=None, description="'{question}' → the generator's prompt (default: the domain's)."
    )
    backend: Backend = Field(default_factory=Backend, description="How every stage generates (section `backend`).")
    finetune: FinetuneStage | None = Field(default=None, description="Supervised fine-tuning of models (stage).")
    annotate: AnnotateStage | None = Field(default=None, description="Monte Carlo step annotation (stage).")
    reward_models: list[RewardModelSpec] = Field(
        default_factory=list, description="Reward models to train or load (stage train)."
    )
    rl: RLStage | None = Field(default=None, description="RL of the policy, evaluated greedily (Table 2; stage).")
    sample: SampleStage | None = Field(default=None, description="N solutions per test problem (stage).")
    score: ScoreStage = Field(default_factory=ScoreStage, description="Scoring the samples with each reward model.")
    select: SelectStage = Field(default_factory=SelectStage, description="Best-of-N methods and curves (Table 1).")
    human_labels: HumanLabelsStage | None = Field(
        default=None, description="Automatic labels against human ones (ProcessBench; stage)."
    )
    paper: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description=("The paper's figures (%) to print beside the measured ones: {'gsm8k-test': {'prm': 93.2, …}}."),
    )
    paper_note: str = Field(default="", description="What the figures in `paper` are and where they come from.")
    _sections: dict[str, Any] = PrivateAttr(default_factory=dict)

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
        used = [
            (f"select.methods.{k}", m.reward_model_for(d))
            for k, m in (self.select.methods or {}).items()
            for d in self._sample_keys(m)
        ]
        used += [(f"rl.methods.{k}", m.reward_model) for k, m in (self.rl.methods.items() if self.rl else ())]
        for where, name in used:
            if name is not None and name not in names:
                raise ValueError(
                    f"{where}: reward model {name!r} is not in reward_models ({', '.join(names) or 'none'})"
                )
        annotated = {ref.key for ref in self.annotate.datasets} if self.annotate else set()
        sampled = {ref.key for ref in self.sample.datasets} if self.sample else set()
        for i, rm in enumerate(self.reward_models):
            for key in set(rm.datasets or ()) - annotated:
                raise ValueError(
                    f"reward_models.{i}.datasets: {key!r} is not an annotation dataset "
                    f"({', '.join(sorted(annotated)) or 'none'})"
                )
            for key in set(rm.scores or ()) - sampled:
                raise ValueError(
                    f"reward_models.{i}.scores: {key!r} is not a sample dataset "
                    f"({', '.join(sorted(sampled)) or 'none'})"
                )
        policy = self.sample.policy if self.sample else None
        if policy and policy.startswith("rl:") and (self.rl is None or policy[3:] not in self.rl.methods):
            raise ValueError(f"sample.policy: {policy!r} names no method of this recipe's rl stage")
        finetuned = {m.name for m in self.finetune.models} if self.finetune else set()
        for field, model in self.models.values():
            if model.startswith("finetuned:") and model.removeprefix("finetuned:") not in finetuned:
                raise ValueError(
                    f"models.{field}: {model!r} names no model of this recipe's finetune stage "
                    f"({', '.join(sorted(finetuned)) or 'none'})"
                )
        return self

    def _sample_keys(self, method: Method) -> list[str]:
        if isinstance(method.reward_model, dict):
            return list(method.reward_model)
        return [ref.key for ref in self.sample.datasets] if self.sample else [""]

    def methods(self) -> dict[str, tuple[str, Method]]:
        """The selection table: row → (selector, its method record)."""
        if self.select.methods is not None:
            return {k: (m.selector, m) for k, m in self.select.methods.items()}
        table: dict[str, tuple[str, Method]] = {
            "self-consistency": ("self-consistency", Method(selector="self-consistency"))
        }
        for rm in self.reward_models:
            table[rm.name] = ("best-of-n", Method(selector="best-of-n", reward_model=rm.name))
            table[f"sc+{rm.name}"] = ("sc+rm", Method(selector="sc+rm", reward_model=rm.name))
        return table

    def section(self, name: str) -> Any:
        """A stage's section: a field of this model, or a plugin stage's (validated when the recipe was loaded)."""
        if name in type(self).model_fields:
            return getattr(self, name)
        return self._sections.get(name, (self.__pydantic_extra__ or {}).get(name))

    def plugin_sections(self, path: str | Path | None = None) -> None:
        """Validate every top-level key that is not a recipe field as the section of a registered stage."""
        from verikit.pipeline.stage import registered
        from verikit.records import validated

        extra = self.__pydantic_extra__ or {}
        if not extra:
            return
        by_section = {stage.section: (name, stage) for name, stage in registered().items() if stage.section}
        plugin_keys = sorted(k for k in by_section if k not in type(self).model_fields)
        for key, value in extra.items():
            if key not in by_section:
                raise DataError(
                    f"unknown field: neither a recipe field nor the section of a registered stage (plugin "
                    f"stages: {', '.join(plugin_keys) or 'none'})",
                    path=path,
                    field=key,
                )
            name, stage = by_section[key]
            if stage.settings is not None:
                unknown = sorted(set(value) - set(stage.settings.model_fields)) if isinstance(value, dict) else []
                if unknown:  # strict whatever the plugin's model says: a misspelt setting must not be ignored
                    raise DataError("unknown field", path=path, field=f"{key}.{unknown[0]}")
                try:
                    self._sections[key] = validated(stage.settings, value)
                except DataError as exc:
                    raise DataError(exc.reason, path=path, field=f"{key}.{exc.field}" if exc.field else key) from None
            else:
                self._sections[key] = value


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


def _relative_to(recipe_file: Path, value: str | None) -> str | None:
    """A ``./`` or ``../`` path of a recipe, resolved against the recipe's folder (not the current one)."""
    if value is None or not value.startswith(("./", "../")):
        return value
    return str((recipe_file.parent / value).resolve())


def load_recipe(source: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> tuple[Recipe, Path]:
    """The validated recipe of a file or registered name, with ``key=value`` overrides applied; and its file.

    Only the shape is checked here (plugin stages' sections included); :func:`verikit.pipeline.checks.check_recipe`
    checks names and models. Paths that start with ``./`` or ``../`` are read relative to the recipe file.
    """
    import yaml

    from verikit.overrides import apply_override
    from verikit.records import validated

    path = recipe_source(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read the recipe: {str(exc).splitlines()[0]}", path=path) from None
    if not isinstance(data, dict):
        raise DataError("a recipe is a YAML mapping", path=path)
    for assignment in overrides:
        try:
            apply_override(data, assignment)
        except DataError as exc:
            raise DataError(exc.reason, path=path) from None
    recipe = validated(Recipe, data, path=path)
    recipe.plugin_sections(path)
    for spec in recipe.reward_models:
        spec.accelerate_config = _relative_to(path, spec.accelerate_config)
        spec.path = _relative_to(path, spec.path)
    for spec in recipe.finetune.models if recipe.finetune else ():
        spec.accelerate_config = _relative_to(path, spec.accelerate_config)
    if recipe.human_labels:
        recipe.human_labels.sources = [_relative_to(path, s) for s in recipe.human_labels.sources]
    return recipe, path
