"""The plugin author's guide stays true: every hookspec is documented and its example plugin runs."""

import inspect
import re
import types
from pathlib import Path

import verikit
from verikit import hookspecs
from verikit.plugins import PluginHost, reset_plugins

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _hookspec_names():
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "verikit_spec")]


def test_every_hookspec_is_documented_with_a_heading_and_an_example():
    text = GUIDE.read_text()
    names = _hookspec_names()
    assert len(names) >= 7
    for name in names:
        section = re.search(rf"### `{name}\((\w+)\)`(.*?)(?=\n### |\Z)", text, re.S)
        assert section, f"docs/plugins.md has no section for hookspec {name}"
        assert "```python" in section.group(2), f"the section for {name} has no example"
        spec_args = list(inspect.signature(getattr(hookspecs, name)).parameters)
        assert [section.group(1)] == spec_args, f"{name}: documented argument differs from the spec"


def test_every_hookspec_has_a_docstring():
    for name in _hookspec_names():
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_the_complete_example_plugin_from_the_guide_works():
    source = re.search(r"```python plugin-example\n(.*?)```", GUIDE.read_text(), re.S).group(1)
    assert len(source.strip().splitlines()) <= 60
    module = types.ModuleType("verikit_yesno")
    exec(compile(source, str(GUIDE), "exec"), module.__dict__)
    reset_plugins(PluginHost(extra_plugins=(module,)))
    assert verikit.answer_checker("yes-no").is_correct("Seven has no divisors. So: yes.", "yes")
    assert verikit.step_splitter("sentences").split("a. b") == ["a", "b"]
    problems = verikit.load_dataset("yesno")
    assert [p.gold_answer for p in problems] == ["yes", "no"]
    assert verikit.domain("yes-no").answer_checker == "yes-no"
