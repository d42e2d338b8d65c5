"""Monte Carlo process annotation (Math-Shepherd §3.3): rollouts from every step prefix, labelled by an estimator.

``verikit.annotation.annotate(config)`` runs it resumably; ``load_annotations(dir)`` reads the result.
"""

from verikit.annotation.storage import AnnotationStore, load_annotations, load_records

__all__ = ["AnnotationStore", "load_annotations", "load_records"]
