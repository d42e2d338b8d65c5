"""Exceptions verikit raises on purpose. Each says what was expected, what came, and where."""

from __future__ import annotations


class VerikitError(Exception):
    """Base class of every error verikit raises deliberately."""


class DataError(VerikitError, ValueError):
    """Bad input data. The message names the file, the 1-based line and the field.

    >>> str(DataError("expected str, got int", path="a.jsonl", line=3, field="answer"))
    "a.jsonl:3: field 'answer': expected str, got int"
    """

    def __init__(self, message: str, *, path: object = None, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field, self.reason = path, line, field, message
        where = []
        if path is not None:
            where.append(str(path) if line is None else f"{path}:{line}")
        elif line is not None:
            where.append(f"row {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(": ".join([*where, message]))


class UnknownNameError(VerikitError, KeyError):
    """A registry lookup for a name nobody registered; the message lists the closest names."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class RegistryClashError(VerikitError):
    """Two plugins registered the same name for the same kind of component."""


class PluginError(VerikitError):
    """A plugin failed to import, to validate against the hookspecs, or inside one of its hooks."""


class CallTimeout(VerikitError, TimeoutError):
    """A time-limited call (e.g. symbolic equivalence) ran past its limit and its worker was killed."""


class Cancelled(VerikitError):
    """Work stopped early because its ``cancel`` event was set (a client went away, the server is stopping)."""


class ServerError(VerikitError):
    """A server refused a request, or could not be reached after every retry."""
