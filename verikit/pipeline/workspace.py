"""Where a run keeps its files, and the lookups every stage shares (problems, domain, prompts, model paths).

Layout under the output folder (each stage reads what the ones before it wrote, so any stage can run alone):

- ``recipe.json`` (the recipe as run), ``models.json`` (each role's folder or hub id), ``stages/<stage>.json``
- ``finetuned/<name>/`` (supervised fine-tuning), ``annotations/<dataset>-<split>/`` (resumable chunks),
  ``reward_models/<name>/``, ``rl/<method>/``
- ``samples/<dataset>-<split>[.set-<k>]/shard-*.jsonl`` (resumable shards; ``.set-<k>``: the k-th repeat),
  ``scores/<dataset>-<split>[.set-<k>]/<rm>.json``
- ``select/<dataset>-<split>.json`` and ``.png``, ``human_labels/``, ``report.json``, ``report.html``

Every artifact keeps a fingerprint of what it was made from (:mod:`verikit.pipeline.reuse`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verikit import components
from verikit.domains import Domain
from verikit.errors import VerikitError
from verikit.pipeline.recipe import DatasetRef, Recipe, RewardModelSpec


def write_json_atomically(path: Path, data: Any) -> None:
    """``data`` as JSON in ``path``, never half-written: a killed run leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


@dataclass
class Workspace:
    recipe: Recipe
    out: Path
    models: dict[str, Any] = field(default_factory=dict)  # role → folder or hub id (filled by the models stage)
    _problems: dict[str, list] = field(default_factory=dict)

    # -- data -----------------------------------------------------------------------------------
    def problems(self, ref: DatasetRef) -> list:
        key = f"{ref.key}:{ref.limit}"
        if key not in self._problems:
            self._problems[key] = components.load_dataset(ref.name, split=ref.split, limit=ref.limit)
        return self._problems[key]

    def domain(self, problems: list) -> Domain:
        """The recipe's domain (or the problems' own), with the recipe's prompt template when it has one."""
        domain = components.domain(self.recipe.domain or problems[0].domain)
        if self.recipe.prompt_template is not None:
            domain = domain.model_copy(update={"prompt_template": self.recipe.prompt_template})
        return domain

    def checker_and_splitter(self, domain: Domain):
        return components.answer_checker(domain.answer_checker), components.step_splitter(domain.step_splitter)

    # -- models ---------------------------------------------------------------------------------
    def model(self, role: str) -> str:
        """The folder or hub id of a role (the first generator for ``generator``)."""
        if role not in self.models:
            raise VerikitError(f"the models stage has not run in {self.out} (no models.json): run it first")
        value = self.models[role]
        return value[0] if isinstance(value, list) else value

    def generators(self) -> list[str]:
        return list(self.models.get("generators") or [self.model("generator")])

    def resolve(self, value: str) -> str:
        """A model value of the recipe as a folder or hub id: ``finetuned:NAME`` is this run's fine-tuned model."""
        if value.startswith("finetuned:"):
            return str((self.out / "finetuned" / value.removeprefix("finetuned:")).resolve())
        from verikit.pipeline.model_roles import provide

        return provide(value)

    def generation_backend(self, model: str, **defaults: Any):
        """A completer of the recipe's backend for ``model``; the recipe's backend options win over ``defaults``."""
        from verikit.interfaces import accepted_settings

        factory = components.lookup("completers", self.recipe.backend.name)
        settings = {**defaults, **self.recipe.backend.options}
        return factory(model=model, **accepted_settings(factory, **settings))

    def reward_model_path(self, spec: RewardModelSpec) -> str:
        if spec.path is not None:
            if spec.path.startswith(("http://", "https://")):
                return spec.path
            from verikit.pipeline.model_roles import provide

            return provide(spec.path.replace("{runs}", str(self.out.resolve().parent)))
        return str(self.out / "reward_models" / spec.name)

    def reward_models_scoring(self, ref: DatasetRef) -> list[RewardModelSpec]:
        """The reward models that score the samples of ``ref`` (each spec's ``scores``, default: every dataset)."""
        return [spec for spec in self.recipe.reward_models if spec.scores is None or ref.key in spec.scores]

    def sample_policy(self) -> str:
        """The model the sample stage draws from: ``sample.policy`` (``rl:METHOD``: this run's RL model) or the
        policy."""
        chosen = self.recipe.sample.policy if self.recipe.sample else None
        if chosen is None:
            return self.model("policy")
        if chosen.startswith("rl:"):
            return str((self.out / "rl" / chosen.removeprefix("rl:") / "model").resolve())
        return self.resolve(chosen)

    # -- folders --------------------------------------------------------------------------------
    def annotations(self, ref: DatasetRef) -> Path:
        return self.out / "annotations" / ref.key

    def sample_sets(self) -> list[int]:
        return list(range(self.recipe.sample.repeats)) if self.recipe.sample else []

    @staticmethod
    def _set_key(ref: DatasetRef, sample_set: int) -> str:
        # the first set keeps the name a run of one set has always used; the others sit beside it
        return f"{ref.key}.set-{sample_set}" if sample_set else ref.key

    def samples(self, ref: DatasetRef, sample_set: int = 0) -> Path:
        return self.out / "samples" / self._set_key(ref, sample_set)

    def scores(self, ref: DatasetRef, sample_set: int = 0) -> Path:
        return self.out / "scores" / self._set_key(ref, sample_set)

    def load_models(self) -> None:
        path = self.out / "models.json"
        if path.exists():
            self.models = json.loads(path.read_text())


def release(model_holder: Any) -> None:
    """Free what a completer or scorer holds on the GPU before the next stage loads its own models."""
    import gc

    close = getattr(model_holder, "close", None)
    if callable(close):
        close()
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
