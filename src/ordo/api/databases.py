"""Use cases over named connections: list them, check their health, query one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordo.config import Settings
from ordo.errors import ConfigError
from ordo.project import Project
from ordo.tabular import TabularResult

__all__ = ["ConnectionInfo", "health", "list_connections", "load_settings", "pool", "query"]


@dataclass(frozen=True)
class ConnectionInfo:
    name: str
    type: str | None
    url: str | None  # masked
    read_only: bool = False
    error: str | None = None


def load_settings(
    project: Path | str | None = None, env_file: Path | str | None = None
) -> Settings:
    root = Project.at(project).root
    return Settings.load(root, env_file=Path(env_file) if env_file else None)


def list_connections(settings: Settings) -> list[ConnectionInfo]:
    """Every configured connection, with its masked URL, or the problem with its settings."""
    infos = []
    for name in settings.connection_names():
        try:
            conn = settings.connection(name)
        except ConfigError as exc:
            infos.append(ConnectionInfo(name, None, None, error=settings.masker().mask(str(exc))))
            continue
        infos.append(ConnectionInfo(name, conn.type, conn.masked_url, conn.read_only))
    return infos


def _names(settings: Settings, names: Sequence[str]) -> list[str]:
    chosen = list(names) or settings.connection_names()
    if not chosen:
        raise ConfigError(
            "no connections are configured",
            hint="set DATABASE_URL (or DB_*), or {ENV}_GLOBAL_{NAME}_CONNECTION_STRING",
        )
    return chosen


def health(
    settings: Settings, names: Sequence[str] = (), *, slow_ms: float = 1000.0
) -> list[dict[str, Any]]:
    """Seed 001's health dictionary for each connection (all of them when none are named)."""
    from ordo.api.database_manager import DatabaseManager

    reports = []
    for name in _names(settings, names):
        with DatabaseManager(name, settings=settings) as db:
            reports.append(db.health_check(slow_ms=slow_ms))
    return reports


def pool(settings: Settings, name: str) -> dict[str, Any]:
    from ordo.api.database_manager import DatabaseManager

    with DatabaseManager(name, settings=settings) as db:
        return db.get_pool_status()


def query(
    settings: Settings, name: str, sql: str, *, timeout: float | None = None
) -> TabularResult:
    """Run one statement on ``name`` and return its rows (writes are committed)."""
    from ordo.api.database_manager import DatabaseManager

    with DatabaseManager(name, settings=settings) as db:
        return db.fetch(sql, timeout=timeout)
