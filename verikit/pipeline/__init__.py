"""One pipeline for every domain and scale: finetune → annotate → train reward models → RL → sample → score → select
→ report, each stage a registered module (:mod:`verikit.pipeline.stage`).

Driven by a :class:`~verikit.pipeline.recipe.Recipe` (YAML); each stage reads what the stages before it wrote and can be
re-run alone (``verikit reproduce --recipe FILE --stage score,select`` re-scores saved samples with a new PRM without
generating anything); each artifact is reused exactly while what it was made from is unchanged. ``verikit demo`` is
the arith plugin's recipe; verikit-math ships the paper's.
"""

from verikit.pipeline.recipe import Recipe, load_recipe
from verikit.pipeline.run import prepare, reproduce

__all__ = ["Recipe", "load_recipe", "prepare", "reproduce"]
