"""Step kinds, found only through the ``ordo.kinds`` entry-point group (``ordo._plugins``).

ordo's own kinds are listed in ``pyproject.toml`` like anyone else's, so adding a kind is its
module, its entry point and its tests. A test that needs a kind of its own (``EchoKind`` in
``ordo.kinds.testing``) adds it for a block with ``registered(kind)`` rather than installing
package metadata.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import Any

from ordo._plugins import plugin, plugins
from ordo.kinds.base import Kind

__all__ = ["available_kinds", "get_kind", "kind_for_file", "registered"]

_GROUP = "ordo.kinds"
_loaded: dict[str, Kind[Any, Any]] = {}  # entry points loaded so far, one instance each
_added: dict[str, Kind[Any, Any]] = {}  # kinds added by ``registered``; they win over both
_lock = threading.Lock()  # runner threads ask for kinds at once: one instance per name


def available_kinds() -> list[str]:
    return sorted({*plugins(_GROUP), *_added})


def get_kind(name: str) -> Kind[Any, Any]:
    """The kind for a step ``type``; raises ``KeyError`` for an unknown one."""
    added = _added.get(name)
    if added is not None:
        return added
    with _lock:
        if name not in _loaded:
            factory: Any = plugin(_GROUP, name)  # the class an entry point names
            _loaded[name] = factory()
        return _loaded[name]


# The extensions ordo's own kinds claim, so that a ``file: load.sql`` step without a ``type:``
# finds its kind without importing every other kind to ask it (60 ms of a plan); a test keeps
# this in step with the kinds' own ``extensions``.
OWN_EXTENSIONS = {".sql": "sql", ".py": "python", ".csv": "seed"}


def kind_for_file(file: str) -> Kind[Any, Any] | None:
    """The kind whose ``extensions`` claim ``file``'s (case-insensitive); ``None`` if none does.

    Kinds are asked in name order, so if two claim one extension the first name wins; ordo's
    own claims (``OWN_EXTENSIONS``) are answered without asking, unless a kind added with
    ``registered`` claims the extension too.
    """
    suffix = PurePath(file).suffix.lower()
    if not suffix:
        return None
    own = OWN_EXTENSIONS.get(suffix)
    if own is not None and not any(suffix in kind.extensions for kind in _added.values()):
        return get_kind(own)
    for name in available_kinds():
        kind = get_kind(name)
        if suffix in kind.extensions:
            return kind
    return None


@contextmanager
def registered(kind: Kind[Any, Any]) -> Iterator[Kind[Any, Any]]:
    """Make ``kind`` a step type for the block (replacing one of its name), then remove it.

    Meant for tests: it changes the process-wide registry, so a block that uses it must not
    run beside another that plans or runs manifests with a kind of the same name.
    """
    previous = _added.get(kind.name)
    _added[kind.name] = kind
    try:
        yield kind
    finally:
        if previous is None:
            del _added[kind.name]
        else:
            _added[kind.name] = previous
