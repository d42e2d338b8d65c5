"""Loads plugins and fills the registries.

Like simonw/llm: the core's own components are plugins too (``DEFAULT_PLUGINS``), third-party ones come
from the ``verikit`` entry-point group, and ``VERIKIT_LOAD_PLUGINS`` (a comma list of entry-point or
distribution names; empty = none) chooses which third-party plugins load. ``VERIKIT_PLUGINS`` (a comma list
of importable module names, like pytest's ``PYTEST_PLUGINS``) loads modules as plugins without installing
them — in every process, so subprocesses and Ray workers see them too. Loading is lazy — it happens on the
first registry lookup, never at ``import verikit``.

A plugin fails in isolation: if its import raises, if it implements a hook that does not exist, if a
hook raises, or if it registers a name another plugin already took, the failure is recorded under the
plugin's name (``verikit plugins`` shows it, lookups mention it) and every other plugin keeps working.
Set ``VERIKIT_STRICT_PLUGINS=1`` to turn such failures into errors, ``VERIKIT_TRACE_HOOKS=1`` to print
every hook call to stderr.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from verikit import hookspecs
from verikit.errors import PluginError, RegistryClashError, UnknownNameError
from verikit.registry import Registry

ENTRY_POINT_GROUP = "verikit"

DEFAULT_PLUGINS: tuple[str, ...] = tuple(
    f"verikit.default_plugins.{name}"
    for name in (
        "splitters",
        "selectors",
        "estimators",
        "completers",
        "scorers",
        "strategies",
        "stages",
        "rl_algorithms",
    )
)

#: hook name → (registry key, human name of the kind)
REGISTRY_HOOKS: dict[str, tuple[str, str]] = {
    "register_answer_checkers": ("answer_checkers", "answer checker"),
    "register_step_splitters": ("step_splitters", "step splitter"),
    "register_completers": ("completers", "completer"),
    "register_estimators": ("estimators", "estimator"),
    "register_datasets": ("datasets", "dataset"),
    "register_domains": ("domains", "domain"),
    "register_selectors": ("selectors", "selector"),
    "register_strategies": ("strategies", "annotation strategy"),
    "register_scorers": ("scorers", "scorer"),
    "register_recipes": ("recipes", "recipe"),
    "register_model_providers": ("model_providers", "model provider"),
    "register_stages": ("stages", "pipeline stage"),
    "register_rl_algorithms": ("rl_algorithms", "RL algorithm"),
}


@dataclass
class PluginFailure:
    plugin: str
    stage: str  # "import", "validate", or the hook name
    error: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed at {self.stage}: {self.error}"


@dataclass
class PluginInfo:
    name: str
    source: str  # "default" or the distribution name
    version: str | None = None
    hooks: list[str] = field(default_factory=list)


class PluginHost:
    """The plugin manager plus one :class:`Registry` per component kind."""

    def __init__(self, *, load_entry_points: bool = True, extra_plugins: tuple[Any, ...] = ()):
        self.pm = pluggy.PluginManager("verikit")
        self.pm.add_hookspecs(hookspecs)
        self.trace = bool(os.environ.get("VERIKIT_TRACE_HOOKS"))
        self.registries: dict[str, Registry] = {key: Registry(kind) for key, kind in REGISTRY_HOOKS.values()}
        self.failures: list[PluginFailure] = []
        self.notes: list[str] = []  # not failures, but what a user should know (shown by `verikit plugins`)
        self.info: dict[str, PluginInfo] = {}
        for module_name in DEFAULT_PLUGINS:
            self._add_module(module_name, source="default")
        if load_entry_points:
            self._load_entry_points()
        for module_name in filter(None, (m.strip() for m in os.environ.get("VERIKIT_PLUGINS", "").split(","))):
            self._add_module(module_name, source="VERIKIT_PLUGINS")
        for plugin in extra_plugins:
            name = getattr(plugin, "__name__", None) or type(plugin).__name__
            self._add(name, lambda p=plugin: p, source="extra")
        for hook_name, (key, _) in REGISTRY_HOOKS.items():
            self._fill(hook_name, self.registries[key])

    # -- loading ----------------------------------------------------------------------------------
    def _load_entry_points(self) -> None:
        """Entry points in a fixed order (distribution, then entry-point name), so that when two plugins claim
        one name the same one wins on every machine: the first in that order."""
        wanted = os.environ.get("VERIKIT_LOAD_PLUGINS")
        allowed = None if wanted is None else {w.strip() for w in wanted.split(",") if w.strip()}
        seen: set[str] = set()
        found: set[str] = set()
        points = []
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = getattr(ep, "dist", None)
            points.append((dist.metadata["Name"] if dist is not None else "", ep))
        for dist_name, ep in sorted(points, key=lambda item: (item[0].lower(), item[1].name)):
            found.update({ep.name, dist_name})
            if allowed is not None and ep.name not in allowed and dist_name not in allowed:
                continue
            if ep.name in seen:  # the same distribution visible twice on sys.path
                continue
            seen.add(ep.name)
            version = ep.dist.version if getattr(ep, "dist", None) is not None else None
            self._add(ep.name, ep.load, source=dist_name or "entry point", version=version)
        if allowed is not None:
            installed = sorted(n for n in found if n)
            self.notes.append(
                f"VERIKIT_LOAD_PLUGINS={wanted!r}: only the plugins named there load, the bundled "
                f"domain plugins included; installed: {', '.join(installed) or 'none'}"
            )
            unknown = sorted(allowed - found)
            if unknown:
                note = f"VERIKIT_LOAD_PLUGINS names {', '.join(map(repr, unknown))}, which no installed plugin is"
                if os.environ.get("VERIKIT_STRICT_PLUGINS"):
                    raise PluginError(note)
                self.notes.append(note)
                sys.stderr.write(f"verikit: warning: {note} (installed: {', '.join(installed) or 'none'})\n")

    def _add_module(self, module_name: str, *, source: str) -> None:
        self._add(module_name, lambda: importlib.import_module(module_name), source=source)

    def _add(self, name: str, load, *, source: str, version: str | None = None) -> None:
        try:
            plugin = load()
        except Exception as exc:
            self._fail(name, "import", exc)
            return
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # a hookimpl whose arguments the spec does not have
            self._fail(name, "validate", exc)
            return
        try:
            self.pm.check_pending()  # a hook name that no spec defines (a typo) fails here, at start-up
        except Exception as exc:
            self.pm.unregister(name=name)
            self._fail(name, "validate", exc)
            return
        hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ())
        self.info[name] = PluginInfo(name, source, version, hooks)

    def _fail(self, plugin: str, stage: str, exc: BaseException) -> None:
        failure = PluginFailure(plugin, stage, f"{type(exc).__name__}: {exc}")
        if os.environ.get("VERIKIT_STRICT_PLUGINS"):
            raise PluginError(str(failure)) from exc
        self.failures.append(failure)

    def _fill(self, hook_name: str, registry: Registry) -> None:
        """Call one registration hook plugin by plugin, so one plugin's error cannot hide another's entries."""
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():  # registration order: defaults first
            staged: list[tuple[tuple, dict]] = []

            def register(*args, **kwargs):
                staged.append((args, kwargs))

            try:
                impl.function(register=register)
            except Exception as exc:
                self._fail(impl.plugin_name, hook_name, exc)
                continue
            finally:
                self._trace(
                    impl.plugin_name, hook_name, [args[0] if args else kwargs.get("name") for args, kwargs in staged]
                )
            for args, kwargs in staged:
                try:
                    registry.register(*args, plugin=impl.plugin_name, **kwargs)
                except (RegistryClashError, PluginError, TypeError) as exc:
                    self._fail(impl.plugin_name, hook_name, exc)

    def _trace(self, plugin: str, hook_name: str, names: list) -> None:
        # Hooks are called plugin by plugin (for isolation), not through pluggy's caller, so the trace is ours.
        if self.trace:
            sys.stderr.write(f"[verikit hook] {plugin}.{hook_name}() registered {names}\n")

    # -- lookups ----------------------------------------------------------------------------------
    def lookup(self, key: str, name: str) -> Any:
        try:
            return self.registries[key].get(name)
        except UnknownNameError as exc:
            extra = [str(f) for f in self.failures] + self.notes
            if extra:
                raise UnknownNameError(f"{exc} — note: {'; '.join(extra)}") from None
            raise

    def add_commands(self, cli: Any) -> None:
        for impl in self.pm.hook.register_commands.get_hookimpls():
            self._trace(impl.plugin_name, "register_commands", [])
            try:
                impl.function(cli=cli)
            except Exception as exc:
                self._fail(impl.plugin_name, "register_commands", exc)


_host: PluginHost | None = None
_lock = threading.Lock()


def get_host() -> PluginHost:
    """The process-wide plugin host, created on first use."""
    global _host
    with _lock:
        if _host is None:
            _host = PluginHost()
        return _host


def reset_plugins(host: PluginHost | None = None) -> None:
    """Forget the loaded plugins (tests, or after changing ``VERIKIT_LOAD_PLUGINS``); optionally install ``host``."""
    global _host
    with _lock:
        _host = host
