"""The plugin system: defaults, entry points, VERIKIT_LOAD_PLUGINS, and failing plugins in isolation."""

import sys
import textwrap

import pytest

import verikit
from verikit import AnswerChecker
from verikit.errors import PluginError, UnknownNameError
from verikit.hookspecs import hookimpl
from verikit.plugins import PluginHost, get_host, reset_plugins


class YesNoChecker(AnswerChecker):
    name = "yes-no"

    def extract(self, text):
        words = text.lower().split()
        return next((w for w in reversed(words) if w in ("yes", "no")), None)

    def equivalent(self, pred, gold):
        return pred is not None and pred == gold.lower()


class YesNoPlugin:
    @hookimpl
    def register_answer_checkers(self, register):
        register("yes-no", YesNoChecker)


def test_a_checker_defined_in_a_test_is_found_by_name():
    reset_plugins(PluginHost(extra_plugins=(YesNoPlugin(),)))
    checker = verikit.answer_checker("yes-no")
    assert isinstance(checker, YesNoChecker)
    assert checker.is_correct("So the answer is yes", "YES")
    assert not checker.is_correct("no idea", "yes")


def test_the_math_plugin_is_loaded_from_its_entry_point():
    host = get_host()
    assert host.info["math"].source == "verikit-math"
    assert host.registries["answer_checkers"].entry("gsm8k").plugin == "math"
    assert type(verikit.answer_checker("math")).__name__ == "MATHChecker"


def test_empty_load_plugins_loads_no_third_party_plugin_but_keeps_the_core(monkeypatch):
    monkeypatch.setenv("VERIKIT_LOAD_PLUGINS", "")
    reset_plugins()
    with pytest.raises(UnknownNameError):
        verikit.answer_checker("gsm8k")
    assert verikit.step_splitter("lines").split("a\nb") == ["a", "b"]
    assert verikit.estimator("hard").label([False, True]).hard


def test_load_plugins_selects_by_entry_point_or_distribution_name(monkeypatch):
    for value in ("math", "verikit-math", " arith , math "):
        monkeypatch.setenv("VERIKIT_LOAD_PLUGINS", value)
        reset_plugins()
        assert "math" in get_host().info, value
    monkeypatch.setenv("VERIKIT_LOAD_PLUGINS", "arith")
    reset_plugins()
    assert "math" not in get_host().info


@pytest.fixture
def installed_plugins(tmp_path, monkeypatch):
    """Install plugins for real: modules plus a *.dist-info with entry points on sys.path."""

    def install(dist: str, modules: dict[str, str]) -> None:
        for module, source in modules.items():
            (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        info = tmp_path / f"{dist.replace('-', '_')}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        entries = "\n".join(f"{m} = {m}" for m in modules)
        (info / "entry_points.txt").write_text(f"[verikit]\n{entries}\n")

    monkeypatch.syspath_prepend(str(tmp_path))
    yield install
    for name in list(sys.modules):
        if name.startswith("vk_test_"):
            del sys.modules[name]


def test_a_plugin_whose_import_raises_is_named_and_the_others_keep_working(installed_plugins):
    installed_plugins("vk-broken", {"vk_test_broken": "raise RuntimeError('boom at import')"})
    host = get_host()
    assert [(f.plugin, f.stage) for f in host.failures] == [("vk_test_broken", "import")]
    assert "boom at import" in host.failures[0].error
    assert verikit.answer_checker("gsm8k").is_correct("#### 5", "5")
    with pytest.raises(UnknownNameError, match="vk_test_broken"):
        verikit.answer_checker("something-it-would-have-registered")


def test_a_plugin_whose_hook_raises_or_clashes_is_named(installed_plugins):
    installed_plugins(
        "vk-bad",
        {
            "vk_test_hook_raises": """
                from verikit.hookspecs import hookimpl
                @hookimpl
                def register_answer_checkers(register):
                    register("fine-before-error", object)
                    raise ValueError("hook exploded")
            """,
            "vk_test_clash": """
                from verikit.hookspecs import hookimpl
                @hookimpl
                def register_step_splitters(register):
                    register("lines", object)
            """,
            "vk_test_typo": """
                from verikit.hookspecs import hookimpl
                @hookimpl
                def register_answer_chekers(register):
                    pass
            """,
        },
    )
    host = get_host()
    failures = {f.plugin: f for f in host.failures}
    assert failures["vk_test_hook_raises"].stage == "register_answer_checkers"
    assert "hook exploded" in failures["vk_test_hook_raises"].error
    assert "fine-before-error" not in host.registries["answer_checkers"]  # nothing half-registered
    assert "'verikit.default_plugins.splitters'" in failures["vk_test_clash"].error
    assert "'vk_test_clash'" in failures["vk_test_clash"].error
    assert verikit.step_splitter("lines").split("a\nb") == ["a", "b"]  # the core keeps its name
    assert failures["vk_test_typo"].stage == "validate"
    assert "register_answer_chekers" in failures["vk_test_typo"].error
    assert verikit.answer_checker("math") is not None


def test_strict_mode_turns_a_plugin_failure_into_an_error(installed_plugins, monkeypatch):
    installed_plugins("vk-broken2", {"vk_test_broken2": "import no_such_dependency_xyz"})
    monkeypatch.setenv("VERIKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="vk_test_broken2"):
        get_host()


def test_hook_tracing_writes_each_hook_call_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv("VERIKIT_TRACE_HOOKS", "1")
    monkeypatch.setenv("VERIKIT_LOAD_PLUGINS", "")
    PluginHost()
    assert "verikit.default_plugins.splitters.register_step_splitters() registered" in capsys.readouterr().err
