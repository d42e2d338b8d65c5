import subprocess
import sys


def test_import_verikit_imports_no_domain_plugin_and_no_heavy_library():
    code = (
        "import sys, verikit\n"
        "bad = {'sympy', 'verikit_math', 'verikit_arith', 'math_verify', 'torch', 'transformers'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_core_source_never_mentions_a_domain_plugin():
    from pathlib import Path

    import verikit

    for path in Path(verikit.__file__).parent.rglob("*.py"):
        text = path.read_text()
        for plugin in ("verikit_math", "verikit_arith", "verikit_medqa", "sympy"):
            assert plugin not in text, f"{path} mentions {plugin}"


def test_the_command_line_starts_without_torch_or_a_domain_plugin():
    """``verikit --help`` must be instant: command modules import configs, never trainers or models."""
    code = (
        "import sys, verikit.cli\n"
        "bad = {'sympy', 'verikit_math', 'verikit_arith', 'torch', 'transformers', 'fastapi'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
