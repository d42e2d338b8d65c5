import pytest

from verikit.errors import PluginError, RegistryClashError, UnknownNameError
from verikit.registry import Registry


def test_a_name_registered_twice_is_an_error_naming_both_plugins():
    registry = Registry("answer checker")
    registry.register("gsm8k", dict, plugin="first")
    with pytest.raises(RegistryClashError, match="'first'.*'second'"):
        registry.register("gsm8k", list, plugin="second")
    assert registry.get("gsm8k") is dict  # the first registration keeps the name


def test_an_unknown_name_suggests_the_closest_registered_names():
    registry = Registry("answer checker")
    for name in ("gsm8k", "math", "arith"):
        registry.register(name, object, plugin="p")
    with pytest.raises(UnknownNameError, match="did you mean 'gsm8k'"):
        registry.get("gsm8")
    with pytest.raises(UnknownNameError, match="registered: arith, gsm8k, math"):
        registry.get("zzz")


def test_a_string_target_is_imported_only_on_first_lookup():
    registry = Registry("thing")
    registry.register("ordered", "collections:OrderedDict", plugin="p")
    assert isinstance(registry.entry("ordered").target, str)
    import collections

    assert registry.get("ordered") is collections.OrderedDict


def test_a_broken_lazy_target_names_its_plugin():
    registry = Registry("thing")
    registry.register("broken", "no_such_module_xyz:Thing", plugin="brokenplugin")
    with pytest.raises(PluginError, match="plugin 'brokenplugin'.*no_such_module_xyz"):
        registry.get("broken")
