"""Everything a recipe names, checked before a run writes anything: registered names, models, files, data, devices.

The shape is pydantic's (:mod:`verikit.pipeline.recipe`); here are the checks that need the plugin registries, the
file system, the hub or torch. Each failure is one :class:`~verikit.errors.DataError` naming the recipe file and the
field.
"""

from __future__ import annotations

from pathlib import Path

from verikit.errors import DataError, UnknownNameError
from verikit.pipeline.recipe import DatasetRef, Recipe


def _registered(kind: str, name: str, path, field: str) -> None:
    from verikit import components

    try:
        components.lookup(kind, name)
    except UnknownNameError as exc:
        raise DataError(str(exc), path=path, field=field) from None


def dataset_refs(recipe: Recipe) -> list[tuple[str, DatasetRef]]:
    """``(field, ref)`` for every dataset the recipe reads."""
    refs = []
    for i, spec in enumerate(recipe.finetune.models if recipe.finetune else ()):
        refs += [(f"finetune.models.{i}.datasets.{j}", ref) for j, ref in enumerate(spec.datasets)]
    refs += [
        (f"annotate.datasets.{i}", ref) for i, ref in enumerate(recipe.annotate.datasets if recipe.annotate else ())
    ]
    refs += [(f"sample.datasets.{i}", ref) for i, ref in enumerate(recipe.sample.datasets if recipe.sample else ())]
    if recipe.rl:
        refs += [(f"rl.datasets.{i}", ref) for i, ref in enumerate(recipe.rl.datasets)]
        refs += [(f"rl.eval.{i}", ref) for i, ref in enumerate(recipe.rl.eval)]
    return refs


def _check_backend_options(recipe: Recipe, path) -> None:
    """Every ``backend.options`` key is a setting of the backend (a misspelt one would be dropped without a word)."""
    from verikit import components
    from verikit.interfaces import accepted_settings

    factory = components.lookup("completers", recipe.backend.name)
    taken = accepted_settings(factory, **{k: True for k in recipe.backend.options})
    for key in recipe.backend.options:
        if key not in taken:
            import inspect

            names = [n for n in inspect.signature(factory).parameters if n not in ("self", "model")]
            raise DataError(
                f"backend {recipe.backend.name!r} has no option {key!r} (it takes: {', '.join(names)})",
                path=path,
                field=f"backend.options.{key}",
            )


def check_names(recipe: Recipe, path) -> None:
    """Every registered name the recipe uses exists (domain, backend, datasets, selectors, aggregations, algorithms)."""
    from verikit.metrics import AGGREGATIONS

    if recipe.domain:
        _registered("domains", recipe.domain, path, "domain")
    _registered("completers", recipe.backend.name, path, "backend.name")
    _check_backend_options(recipe, path)
    for field, ref in dataset_refs(recipe):
        _registered("datasets", ref.name, path, f"{field}.name")
    aggregations = [("score.aggregation", recipe.score.aggregation)]
    aggregations += [
        (f"reward_models.{i}.aggregation", rm.aggregation)
        for i, rm in enumerate(recipe.reward_models)
        if rm.aggregation
    ]
    for field, name in aggregations:
        if name not in AGGREGATIONS:
            raise DataError(f"unknown aggregation {name!r} (one of {', '.join(AGGREGATIONS)})", path=path, field=field)
    for row, (selector, _) in recipe.methods().items():
        _registered("selectors", selector, path, f"select.methods.{row}.selector")
    if recipe.rl:
        if recipe.rl.domain:
            _registered("domains", recipe.rl.domain, path, "rl.domain")
        _registered("completers", recipe.rl.settings.backend, path, "rl.settings.backend")
        from verikit import components

        for key, method in recipe.rl.methods.items():
            _registered("rl_algorithms", method.algo, path, f"rl.methods.{key}.algo")
            if components.lookup("rl_algorithms", method.algo).needs_reward_model and method.reward_model is None:
                raise DataError(f"{method.algo} needs a reward_model", path=path, field=f"rl.methods.{key}")


def check_files(recipe: Recipe, path) -> None:
    """Every file the recipe points to exists: accelerate configs, ProcessBench sources."""
    launches = [(f"reward_models.{i}", rm) for i, rm in enumerate(recipe.reward_models) if rm.path is None]
    launches += [(f"finetune.models.{i}", m) for i, m in enumerate(recipe.finetune.models if recipe.finetune else ())]
    for field, spec in launches:
        if spec.launcher == "accelerate" and not Path(spec.accelerate_config).expanduser().is_file():
            raise DataError(
                f"no accelerate config {spec.accelerate_config}", path=path, field=f"{field}.accelerate_config"
            )
    if recipe.human_labels:
        from verikit.pipeline.stages.human_labels import source_paths

        for i, source in enumerate(recipe.human_labels.sources):
            if not source_paths([source]):
                raise DataError(
                    f"no ProcessBench file or folder {source} (relative to the recipe or the data folder)",
                    path=path,
                    field=f"human_labels.sources.{i}",
                )


def check_data(recipe: Recipe, path) -> None:
    """Every dataset loads (its files exist and its rows are valid) with the limit the recipe gives it."""
    from verikit import components

    for field, ref in dataset_refs(recipe):
        try:
            problems = components.load_dataset(ref.name, split=ref.split, limit=ref.limit)
        except DataError as exc:
            raise DataError(
                f"dataset {ref.name!r} split {ref.split!r} does not load: {exc}", path=path, field=field
            ) from None
        if not problems:
            raise DataError(f"dataset {ref.name!r} split {ref.split!r} has no problems", path=path, field=field)


def check_models(recipe: Recipe, path) -> None:
    """Every model exists or can be made: folders, providers' specs, hub ids (their config loads), trained reward
    models."""
    from verikit.models import RM_MANIFEST
    from verikit.pipeline.model_roles import check_model

    for field, model in recipe.models.values():
        if not model.startswith("finetuned:"):  # made by this run's finetune stage
            check_model(model, path, f"models.{field}")
    for i, spec in enumerate(recipe.finetune.models if recipe.finetune else ()):
        check_model(spec.base, path, f"finetune.models.{i}.base")
    for i, rm in enumerate(recipe.reward_models):
        if rm.base and not rm.base.startswith("finetuned:"):
            check_model(rm.base, path, f"reward_models.{i}.base")
        if rm.path and not rm.path.startswith(("http://", "https://")) and "{runs}" not in rm.path:
            if not (Path(rm.path).expanduser() / RM_MANIFEST).is_file():  # a likelihood PRM has no weights of its own
                check_model(rm.path, path, f"reward_models.{i}.path")
    _check_precision(recipe, path)


def check_recipe(recipe: Recipe, path, models: bool = True, data: bool = True) -> None:
    """Names always; files, data and models unless a ``--smoke`` run replaces them."""
    check_names(recipe, path)
    if data:
        check_files(recipe, path)
        check_data(recipe, path)
    if models:
        check_models(recipe, path)


def _check_precision(recipe: Recipe, path) -> None:
    """A GPU-only precision asked for on a machine without CUDA fails now, not after hours of annotation."""
    wanted = [
        (f"reward_models.{i}.training.precision", rm.training.get("precision", "auto"))
        for i, rm in enumerate(recipe.reward_models)
        if rm.path is None and rm.launcher == "in-process"
    ]
    wanted += [
        (f"finetune.models.{i}.settings.precision", m.settings.precision)
        for i, m in enumerate(recipe.finetune.models if recipe.finetune else ())
        if m.launcher == "in-process"
    ]
    if recipe.rl:
        wanted.append(("rl.settings.ppo.precision", recipe.rl.settings.ppo.precision))
    gpu_only = [(field, value) for field, value in wanted if str(value).endswith("-mixed")]
    if gpu_only:
        import torch

        if not torch.cuda.is_available():
            field, value = gpu_only[0]
            raise DataError(
                f"precision {value!r} needs a CUDA GPU and this machine has none (use auto or fp32, or --smoke)",
                path=path,
                field=field,
            )
