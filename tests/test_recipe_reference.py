"""docs/recipe-reference.md is what the schema generates, and it names every field the loader accepts."""

from pathlib import Path

from verikit.pipeline.recipe import Recipe
from verikit.pipeline.recipe_reference import recipe_reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "recipe-reference.md"


def test_the_committed_reference_is_the_generated_one():
    assert DOC.read_text(encoding="utf-8") == recipe_reference(), (
        "docs/recipe-reference.md is stale: run `verikit recipes --reference > docs/recipe-reference.md`"
    )


def test_every_field_of_every_section_is_listed():
    text = recipe_reference()
    for name in Recipe.model_fields:
        assert f"| `{name}` |" in text
    from verikit.annotation.config import AnnotationSettings
    from verikit.rm.config import PRMTrainingSettings

    annotate = text.split("## `annotate`")[1].split("\n## ")[0]
    assert all(f"| `{name}` |" in annotate for name in AnnotationSettings.model_fields)
    training = text.split("## `reward_models[].training (prm, orm)`")[1].split("\n## ")[0]
    assert all(f"| `{name}` |" in training for name in PRMTrainingSettings.model_fields)
