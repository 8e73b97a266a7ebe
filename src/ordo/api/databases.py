"""Use cases over named connections: list them, check their health and pool, query one.

Each takes ``project=``, ``env_file=`` and ``environ=`` like ``ordo.plan``, and opens (and
closes again) what it needs, so a script or a scheduler keeps no connection between calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ordo.api._settings import load_settings
from ordo.api.database_manager import DatabaseManager
from ordo.config import Settings
from ordo.errors import ConfigError
from ordo.tabular import TabularResult

__all__ = ["ConnectionInfo", "health_check", "list_connections", "pool_status", "query"]


@dataclass(frozen=True)
class ConnectionInfo:
    """One configured connection as ``ordo db list`` shows it; ``error`` when it is broken."""

    name: str
    type: str | None
    url: str | None  # masked
    read_only: bool = False
    error: str | None = None


def list_connections(
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[ConnectionInfo]:
    """Every configured connection, with its masked URL, or the problem with its settings."""
    settings = load_settings(project, env_file, environ)
    infos = []
    for name in settings.connection_names():
        try:
            conn = settings.connection(name)
        except ConfigError as exc:
            infos.append(ConnectionInfo(name, None, None, error=settings.masker().mask(str(exc))))
            continue
        infos.append(ConnectionInfo(name, conn.type, conn.masked_url, conn.read_only))
    return infos


def health_check(
    names: str | Sequence[str] = (),
    *,
    slow_ms: float = 1000.0,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The health dictionary for each connection (all of them when none are named).

    Never raises for a database that does not answer: its report says ``unhealthy``.
    """
    settings = load_settings(project, env_file, environ)
    reports = []
    for name in _names(settings, [names] if isinstance(names, str) else names):
        with DatabaseManager(name, settings=settings) as db:
            reports.append(db.health_check(slow_ms=slow_ms))
    return reports


def pool_status(
    name: str = "default",
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The pool dictionary of ``name``, as this process sees it."""
    with DatabaseManager(name, settings=load_settings(project, env_file, environ)) as db:
        return db.get_pool_status()


def query(
    name: str,
    sql: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float | None = None,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> TabularResult:
    """Run one statement (bound ``:name`` parameters) on ``name``; writes are committed."""
    with DatabaseManager(name, settings=load_settings(project, env_file, environ)) as db:
        return db.fetch(sql, params, timeout=timeout)


def _names(settings: Settings, names: Sequence[str]) -> list[str]:
    chosen = list(names) or settings.connection_names()
    if not chosen:
        raise ConfigError(
            "no connections are configured",
            hint="set DATABASE_URL (or DB_*), or {ENV}_GLOBAL_{NAME}_CONNECTION_STRING",
        )
    return chosen
