"""Extractors: the sources of ``load`` steps, found through the ``ordo.extractors`` entry points.

ordo's own (``csv``, ``parquet``, ``json``, ``ndjson``, ``excel``, ``sql``, ``http``) are listed in
``pyproject.toml`` like anyone else's. ``build_extractor`` turns a step's ``source:`` mapping
into one, at plan time; ``registered`` adds one for a block (tests).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ordo.data.plugins import PlanContext, PluginRegistry
from ordo.extractors.base import BATCH_ROWS, Extractor, ExtractorConfig, ExtractorFactory

__all__ = [
    "BATCH_ROWS",
    "Extractor",
    "ExtractorConfig",
    "ExtractorFactory",
    "available_extractors",
    "build_extractor",
    "registered",
]

_REGISTRY: PluginRegistry[Extractor] = PluginRegistry("ordo.extractors", "source")


def available_extractors() -> list[str]:
    return _REGISTRY.available()


def build_extractor(spec: Mapping[str, Any], plan: PlanContext) -> Extractor:
    """The extractor ``spec`` (``{type: csv, path: ...}``) describes; ``StepProblem`` if bad."""
    return _REGISTRY.build(spec, plan)


@contextmanager
def registered(name: str, factory: ExtractorFactory) -> Iterator[None]:
    """Make ``factory`` the ``name`` source type for the block (tests)."""
    with _REGISTRY.registered(name, factory):
        yield
