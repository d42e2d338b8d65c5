"""One pipeline for every domain and scale: annotate → train reward models → sample → score → select (→ rl) → report.

Driven by a :class:`~verikit.pipeline.recipe.Recipe` (YAML); each stage reads what the stages before it wrote and
can be re-run alone (``verikit reproduce --recipe FILE --stage score,select`` re-scores saved samples with a new
PRM without generating anything). ``verikit demo`` is the arith plugin's recipe; ``benchmarks/math/recipes`` hold
the paper's.
"""

from verikit.pipeline.recipe import Recipe, load_recipe
from verikit.pipeline.run import prepare, reproduce

__all__ = ["Recipe", "load_recipe", "prepare", "reproduce"]
