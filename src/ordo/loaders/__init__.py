"""Loaders: the targets of ``load`` steps, found through the ``ordo.loaders`` entry points.

ordo's own (``table``, ``parquet``, ``csv``, ``ndjson``) are listed in
``pyproject.toml`` like anyone else's. ``build_loader`` turns a step's ``target:`` mapping
into one, at plan time; ``registered`` adds one for a block (tests).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ordo.data.plugins import PlanContext, PluginRegistry
from ordo.loaders.base import Loader, LoaderConfig, LoaderFactory

__all__ = [
    "Loader",
    "LoaderConfig",
    "LoaderFactory",
    "available_loaders",
    "build_loader",
    "registered",
]

_REGISTRY: PluginRegistry[Loader] = PluginRegistry("ordo.loaders", "target")


def available_loaders() -> list[str]:
    return _REGISTRY.available()


def build_loader(spec: Mapping[str, Any], plan: PlanContext) -> Loader:
    """The loader ``spec`` (``{type: table, table: ...}``) describes; ``StepProblem`` if bad."""
    return _REGISTRY.build(spec, plan)


@contextmanager
def registered(name: str, factory: LoaderFactory) -> Iterator[None]:
    """Make ``factory`` the ``name`` target type for the block (tests)."""
    with _REGISTRY.registered(name, factory):
        yield
