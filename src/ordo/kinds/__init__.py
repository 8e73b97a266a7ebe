"""Step kinds, found through the ``ordo.kinds`` entry-point group so others can add their own."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from ordo.kinds.base import Kind

__all__ = ["available_kinds", "get_kind"]

# The built-in kinds, used when the package metadata is not installed (running from a checkout).
_BUILTIN = {
    "sql": "ordo.kinds.sql:SqlKind",
    "plsql": "ordo.kinds.sql:PlsqlKind",
    "python": "ordo.kinds.python:PythonKind",
    "migrate": "ordo.kinds.migrate:MigrateKind",
}


@cache
def _registry() -> dict[str, str]:
    found = dict(_BUILTIN)
    for ep in entry_points(group="ordo.kinds"):
        found[ep.name] = ep.value
    return found


def available_kinds() -> list[str]:
    return sorted(_registry())


@cache
def get_kind(name: str) -> Kind:
    """The kind for a step ``type``; raises ``KeyError`` for an unknown one."""
    target = _registry()[name]
    module_name, _, attr = target.partition(":")
    module = __import__(module_name, fromlist=[attr])
    kind: Kind = getattr(module, attr)()
    return kind
