"""Entry-point groups: the one way ordo finds its extensions, its own built-in ones included.

Step kinds (``ordo.kinds``), dialects (``ordo.dialects``), notifiers (``ordo.notifiers``) and
state stores (``ordo.state_stores``) are all listed in ``pyproject.toml`` and found here, so a
package that adds its own registers them the same way ordo does, and there is no second,
built-in table to keep in step with the first. Groups are read once per process.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, EntryPoints, entry_points

__all__ = ["PluginsMissing", "plugin", "plugins"]


class PluginsMissing(RuntimeError):
    """ordo's own package metadata is not installed, so not even its built-in parts are found.

    A broken install, not a user's mistake: it says how to mend it.
    """


@cache
def plugins(group: str) -> dict[str, EntryPoint]:
    """Every entry point of ``group`` by name (a later duplicate name wins), read once."""
    found = {ep.name: ep for ep in sorted(_all().select(group=group), key=lambda ep: ep.name)}
    if not found and group in _OWN_GROUPS:
        raise PluginsMissing(
            f"no '{group}' entry points: ordo's package metadata is missing; install ordo "
            "(in a checkout: `pip install -e .` or `uv sync`)"
        )
    return found


@cache
def _all() -> EntryPoints:
    """Every installed entry point: reading them means opening every installed package's
    metadata, the same work for one group as for all, so it is done once (3 ms a group)."""
    found = entry_points()
    if isinstance(found, EntryPoints):  # Python 3.12 and later
        return found
    return EntryPoints(point for group in found.groups for point in found.select(group=group))


def plugin(group: str, name: str) -> object:
    """The object registered as ``name`` in ``group``; ``KeyError`` when there is none."""
    return plugins(group)[name].load()


# Groups ordo itself fills, so finding none of them means the install is broken.
_OWN_GROUPS = frozenset(
    {"ordo.dialects", "ordo.extractors", "ordo.kinds", "ordo.loaders", "ordo.notifiers"}
)
