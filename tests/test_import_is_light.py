import subprocess
import sys

import pytest

HEAVY = {"sympy", "verikit_math", "verikit_arith", "verikit_medqa", "math_verify", "torch", "transformers", "fastapi"}


@pytest.mark.parametrize("module", ["verikit", "verikit.cli"])
def test_importing_loads_no_domain_plugin_and_no_heavy_library(module):
    """``import verikit`` and ``verikit --help`` must be instant: the front door and the command modules import
    contracts and configs, never trainers, models or plugins."""
    code = f"import sys, {module}\nbad = set({sorted(HEAVY)!r}) & set(sys.modules)\nassert not bad, bad\n"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_core_source_never_mentions_a_domain_plugin():
    from pathlib import Path

    import verikit

    for path in Path(verikit.__file__).parent.rglob("*.py"):
        text = path.read_text()
        for plugin in ("verikit_math", "verikit_arith", "verikit_medqa", "sympy"):
            assert plugin not in text, f"{path} mentions {plugin}"
