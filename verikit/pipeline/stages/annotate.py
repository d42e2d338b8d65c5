"""The annotate stage: Monte Carlo step labels for every annotation dataset, in process or on Ray actors.

One set of engines serves every dataset of the stage (models load once) and is released at the end. An annotation
folder is reused while its fingerprint (the generators' and completer's weights, the dataset's rows, the settings)
is unchanged, resumed when a run of the same fingerprint was killed, and made anew otherwise. When the domain knows
gold step labels, the labels' agreement with gold is measured and reported; duplicate solutions are counted.
"""

from __future__ import annotations

from verikit.annotation.config import AnnotationConfig, AnnotationSettings
from verikit.pipeline.recipe import DatasetRef
from verikit.pipeline.reuse import Fingerprint, model_identity, record, rows_identity, start
from verikit.pipeline.stage import Stage
from verikit.pipeline.workspace import Workspace, release


def annotation_config(ws: Workspace, ref: DatasetRef) -> AnnotationConfig:
    """The library's configuration of one dataset's annotation: the stage's settings, the run's models and backend."""
    stage = ws.recipe.annotate
    options = ws.recipe.backend.options
    settings = stage.model_dump(include=set(AnnotationSettings.model_fields))
    settings["batch_size"] = options.get("batch_size", stage.batch_size)
    return AnnotationConfig(
        **settings,
        dataset=ref.name,
        split=ref.split,
        limit=ref.limit,
        domain=ws.recipe.domain,
        generator=ws.generators(),
        completer=ws.model("completer"),
        backend=ws.recipe.backend.name,
        prompt_template=ws.recipe.prompt_template,
        device=options.get("device", "auto"),
        backend_options={k: v for k, v in options.items() if k not in ("batch_size", "device")},
    )


def annotation_fingerprint(ws: Workspace, ref: DatasetRef, config: AnnotationConfig) -> Fingerprint:
    models = {
        "generator": [model_identity(g) for g in config.generator],
        "completer": model_identity(config.rollout_model),
    }
    settings = config.model_dump(exclude={"generator", "completer"})
    return Fingerprint.of(**models, rows=rows_identity(ws.problems(ref)), settings=settings)


def run_annotate(ws: Workspace) -> dict:
    from verikit.annotation.driver import Annotator, annotate
    from verikit.annotation.quality import label_agreement
    from verikit.annotation.storage import load_records

    stage = ws.recipe.annotate
    report = {}
    annotator = None
    try:
        for ref in stage.datasets:
            config = annotation_config(ws, ref)
            folder = ws.annotations(ref)
            fingerprint = annotation_fingerprint(ws, ref, config)
            decision = start(folder, fingerprint, f"annotations {ref.key}")
            if not decision.reuse:
                if stage.ray is not None:
                    from verikit.annotation.distributed import annotate_with_ray

                    summary = annotate_with_ray(config, folder, workers=stage.ray.workers, address=stage.ray.address)
                else:
                    if annotator is None:
                        annotator = Annotator(config)
                    annotator.config = config  # same models and sampling; this dataset's problems
                    summary = annotate(config, folder, annotator=annotator)
                record(folder, fingerprint)
                result = {
                    "problems": summary.problems,
                    "solutions": summary.solutions,
                    "labelled": summary.labelled,
                    "duplicates": summary.duplicates,
                    "errors": summary.errors,
                    "rollouts_generated": summary.rollouts_generated,
                    "rollout_tokens": summary.rollout_tokens,
                    "seconds": summary.seconds,
                    "rollout_tokens_per_second": round(summary.rollout_tokens / summary.seconds, 1)
                    if summary.seconds
                    else None,
                }
                print(
                    f"   annotated {ref.key}: {summary.solutions} solutions of {summary.problems} problems "
                    f"({summary.duplicates} duplicates), {summary.rollouts_generated} rollouts, errors "
                    f"{summary.errors or 'none'}",
                    flush=True,
                )
            else:
                records = load_records(folder)
                result = {
                    "solutions": len(records),
                    "duplicates": sum(r.get("duplicate_of") is not None for r in records),
                }
            result.update(decision.report())
            problems = ws.problems(ref)
            labeller = ws.domain(problems).load_gold_labeller() if problems else None
            if labeller is not None:
                result["label_quality"] = label_agreement(load_records(folder), labeller, {p.id: p for p in problems})
            report[ref.key] = result
    finally:
        if annotator is not None:
            for engine in annotator.models():
                release(engine)
            del annotator
    return report


def smoke_annotate(recipe, tiny: str, out) -> dict:
    datasets = [ref.model_copy(update={"limit": min(ref.limit or 3, 3)}) for ref in recipe.annotate.datasets]
    return {
        "annotate": recipe.annotate.model_copy(
            update={
                "datasets": datasets,
                "samples_per_problem": 2,
                "n_rollouts": 2,
                "max_new_tokens": 24,
                "batch_size": 64,
                "chunk_size": 2,
                "ray": None,
            }
        )
    }


STAGE = Stage(
    run=run_annotate,
    section="annotate",
    after=("finetune",),
    smoke=smoke_annotate,
    description="Monte Carlo step labels of the generators' solutions (the paper: K = 15, N = 8, hard)",
)
