"""Name → implementation, one registry per kind of component.

Modelled on lm-evaluation-harness's registry: a clash is an error naming both plugins, an unknown
name is an error suggesting the closest names, and an entry may be a ``"module:attribute"`` string
that is imported only when first looked up (so ``import verikit`` stays light).
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from verikit.errors import PluginError, RegistryClashError, UnknownNameError

T = TypeVar("T")


@dataclass
class Entry:
    name: str
    target: Any  # the object, or a "module:attribute" string loaded lazily
    plugin: str
    description: str = ""

    def load(self) -> Any:
        if isinstance(self.target, str):
            module_name, _, attribute = self.target.partition(":")
            try:
                obj = importlib.import_module(module_name)
                for part in attribute.split(".") if attribute else ():
                    obj = getattr(obj, part)
            except Exception as exc:  # a plugin's lazy target is broken: say whose and what
                raise PluginError(
                    f"plugin {self.plugin!r}: cannot load {self.name!r} from {self.target!r}: {exc!r}"
                ) from exc
            self.target = obj
        return self.target


class Registry(Generic[T]):
    """Holds the named implementations of one kind (``"answer checker"``, ``"step splitter"``, …)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, target: Any, *, plugin: str, description: str = "") -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} with an invalid name {name!r}")
        if name in self._entries:
            # First come keeps the name (the core's defaults load first); the latecomer is refused.
            raise RegistryClashError(
                f"{self.kind} {name!r} is registered by both plugin {self._entries[name].plugin!r} and plugin "
                f"{plugin!r}; the second registration was refused (uninstall one, or choose with VERIKIT_LOAD_PLUGINS)"
            )
        self._entries[name] = Entry(name, target, plugin, description)

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            known = ", ".join(sorted(self._entries)) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}{hint} (registered: {known})") from None

    def get(self, name: str) -> Any:
        return self.entry(name).load()

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in self.names()]

    def entries_in_order(self) -> list[Entry]:
        """The entries in the order they were registered (the core's defaults first)."""
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries
