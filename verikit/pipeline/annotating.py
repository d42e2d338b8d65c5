"""The annotate stage: Monte Carlo step labels for every annotation dataset, in process or on Ray actors.

One generation engine serves every dataset of the stage (models load once) and is released at the end. When
the domain knows gold step labels, the labels' agreement with gold is measured and reported.
"""

from __future__ import annotations

from verikit.annotation.config import AnnotationConfig
from verikit.pipeline.recipe import DatasetRef
from verikit.pipeline.workspace import Workspace, release


def annotation_config(ws: Workspace, ref: DatasetRef) -> AnnotationConfig:
    stage = ws.recipe.annotate
    options = ws.recipe.backend.options
    return AnnotationConfig(
        dataset=ref.name, split=ref.split, limit=ref.limit, domain=ws.recipe.domain, generator=ws.model("generator"),
        completer=ws.model("completer"), backend=ws.recipe.backend.name, prompt_template=ws.recipe.prompt_template,
        samples_per_problem=stage.samples_per_problem, n_rollouts=stage.n_rollouts, strategy=stage.strategy,
        estimator=stage.estimator, round_size=stage.round_size, temperature=stage.temperature,
        rollout_temperature=stage.rollout_temperature, max_new_tokens=stage.max_new_tokens, seed=stage.seed,
        chunk_size=stage.chunk_size, batch_size=options.get("batch_size", stage.batch_size),
        device=options.get("device", "auto"), backend_options={k: v for k, v in options.items() if k not in ("batch_size", "device")})


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
            if stage.ray is not None:
                from verikit.annotation.distributed import annotate_with_ray

                summary = annotate_with_ray(config, folder, workers=stage.ray.workers, address=stage.ray.address)
            else:
                if annotator is None:
                    annotator = Annotator(config)
                annotator.config = config  # same models and sampling; this dataset's problems
                summary = annotate(config, folder, annotator=annotator)
            result = {"problems": summary.problems, "solutions": summary.solutions, "labelled": summary.labelled,
                      "errors": summary.errors, "rollouts_generated": summary.rollouts_generated,
                      "rollout_tokens": summary.rollout_tokens, "seconds": summary.seconds,
                      "rollout_tokens_per_second": round(summary.rollout_tokens / summary.seconds, 1) if summary.seconds else None}
            problems = ws.problems(ref)
            labeller = ws.domain(problems).load_gold_labeller() if problems else None
            if labeller is not None:
                result["label_quality"] = label_agreement(load_records(folder), labeller, {p.id: p for p in problems})
            report[ref.key] = result
            print(f"   annotated {ref.key}: {summary.solutions} solutions of {summary.problems} problems, "
                  f"{summary.rollouts_generated} rollouts, errors {summary.errors or 'none'}", flush=True)
    finally:
        if annotator is not None:
            release(annotator.generator)
            release(annotator.completer)
            del annotator
    return report
