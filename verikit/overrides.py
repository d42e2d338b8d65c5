"""The one override syntax of verikit: ``key.path=value``, the value read as YAML.

``verikit reproduce --set sample.samples=16`` changes a recipe field this way; the benchmarks' ``--ppo
learning_rate=1e-5,lam=1.0`` is the same syntax (comma-separated assignments) applied to a config. List items are
addressed by index (``annotate.datasets.0.limit=50``), and the index one past the end appends
(``reward_models.3={name: extra, kind: prm}`` on a recipe with three); ``null`` is None.
"""

from __future__ import annotations

from typing import Any

from verikit.errors import DataError


def apply_override(data: dict, assignment: str) -> None:
    """Apply ``a.b.c=value`` (value parsed as YAML) to the mapping ``data`` in place; list items by index."""
    import yaml

    path, sep, raw = assignment.partition("=")
    if not sep or not path:
        raise DataError(f"an override is key.path=value, got {assignment!r}")
    value = yaml.safe_load(raw)
    parts = path.split(".")
    node: Any = data
    try:
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list) and int(last) == len(node):
            node.append(value)
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    except (ValueError, IndexError, TypeError, AttributeError) as exc:
        raise DataError(f"cannot apply override {assignment!r}: {exc}") from None


def assignments(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"a=1,b.c=x"`` or a list of assignments → the list of assignments."""
    if isinstance(text, str):
        return [item for item in text.split(",") if item.strip()]
    return list(text)


def overridden(model, values: dict | None, text: str | list[str] | tuple[str, ...]):
    """``model`` (a pydantic class) built from ``values`` with the assignments of ``text`` applied; a bad field or
    value is a :class:`DataError` naming it."""
    from verikit.records import validated

    data = dict(values or {})
    for assignment in assignments(text):
        apply_override(data, assignment)
    where = f"overrides {text!r}" if isinstance(text, str) else "overrides"
    unknown = sorted(set(data) - set(model.model_fields))
    if unknown:  # refused even where the model itself ignores extra keys
        raise DataError("unknown field", path=where, field=unknown[0])
    return validated(model, data, path=where)
