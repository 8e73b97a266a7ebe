"""Opening the project's state store for the service, which needs a store that keeps jobs,
tokens and fires (``ordo.store.service.ServiceStore``): SQLite or PostgreSQL.

``memory://`` keeps nothing once the process ends, and a store from a third party's entry
point may only record runs: for both, the service says so instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ordo.api._settings import load_settings
from ordo.config import Settings
from ordo.errors import ConfigError
from ordo.store.factory import STATE_URL_SETTING, open_store
from ordo.store.memory import MemoryStore
from ordo.store.service import ServiceStore

__all__ = ["service_store"]


@contextmanager
def service_store(
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    create: bool = True,
) -> Iterator[tuple[ServiceStore | None, Settings]]:
    """The project's store and settings, closed afterwards.

    With ``create=False`` a project whose default store does not exist yet gives None (it has
    no jobs nor tokens, and looking leaves no ``.ordo`` folder behind).
    """
    settings = load_settings(project, env_file, environ)
    store = open_store(settings, settings.root, create=create)
    try:
        if isinstance(store, MemoryStore) and not create and not _memory_url(settings):
            yield None, settings  # the stand-in for a SQLite store not made yet
        elif isinstance(store, ServiceStore) and not isinstance(store, MemoryStore):
            yield store, settings
        else:
            raise ConfigError(
                "jobs and tokens need a SQLite or PostgreSQL state store; ORDO_STATE_URL "
                "names one that cannot keep them",
                hint="unset ORDO_STATE_URL (the store is then .ordo/state.db) or set it to a "
                "sqlite:// or postgresql:// URL",
            )
    finally:
        store.close()


def _memory_url(settings: Settings) -> bool:
    text = settings.get(STATE_URL_SETTING) or ""
    return text.strip().lower() in ("memory", "memory:", "memory://")
