"""The shape of the core, checked from its source with ``ast`` (every import, lazy ones inside functions too).

* no import cycles inside ``verikit/``;
* no submodule imports the package ``verikit`` itself (lookups come from :mod:`verikit.components`);
* the core imports no plugin (and no ``verikit_*`` distribution at all);
* stages import only downwards: foundation < completers < annotation < reward models < verification < RL
  < serving < command line.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "verikit"

#: module-name prefix → layer; a module may import only modules of its own layer or below. Unlisted: 0.
LAYERS = {
    "verikit.completers": 1,
    "verikit.annotation": 2,
    "verikit.rm": 3,
    "verikit.sft": 3,
    "verikit.bon": 4,
    "verikit.beam": 4,
    "verikit.rl": 5,
    "verikit.serve": 6,
    "verikit.serve_guard": 6,
    "verikit.serve_schemas": 6,
    "verikit.serve_gate": 6,
    "verikit.serve_harness": 6,
    "verikit.pipeline": 7,
    "verikit.cli": 7,
}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module (``verikit.*`` or not) that ``name`` imports, resolved to the longest known module name."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            while target not in modules and "." in target and target.startswith("verikit."):
                target = target.rpartition(".")[0]
            found.add(target)
    found.discard(name)
    return found


def _layer(name: str) -> int:
    matches = [prefix for prefix in LAYERS if name == prefix or name.startswith(prefix + ".")]
    return LAYERS[max(matches, key=len)] if matches else 0


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_cycle_in_the_core(graph):
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_planted_cycle(graph):
    planted = {name: set(deps) for name, deps in graph.items()}
    planted["verikit.errors"].add("verikit.rm.scorer")  # rm.scorer → … → errors → rm.scorer
    assert any("verikit.errors" in cycle and "verikit.rm.scorer" in cycle for cycle in _cycles(planted))


def test_no_submodule_imports_the_package_itself(graph):
    offenders = sorted(name for name, deps in graph.items() if name != "verikit" and "verikit" in deps)
    assert offenders == [], "import lookups from verikit.components, not `import verikit`"


def test_the_core_imports_no_plugin(graph):
    offenders = sorted(
        f"{name} → {dep}" for name, deps in graph.items() for dep in deps if dep.split(".")[0].startswith("verikit_")
    )
    assert offenders == []


def test_stages_import_only_downwards(graph):
    upward = sorted(
        f"{name} (layer {_layer(name)}) → {dep} (layer {_layer(dep)})"
        for name, deps in graph.items()
        if name != "verikit"  # the front door re-exports every stage
        for dep in deps
        if dep.startswith("verikit.") and _layer(dep) > _layer(name)
    )
    assert upward == []
