"""Use cases over a connection's migrations: apply, status, repair, baseline.

Each call opens its own engine for the connection and closes it afterwards, so a command
line or a scheduler calling these never keeps connections open between calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ordo.errors import ConfigError

if TYPE_CHECKING:
    from ordo.config import Settings
    from ordo.migrate.migrator import Migrator
    from ordo.migrate.results import MigrateResult, MigrationStatus, RepairResult

__all__ = ["baseline", "migrate", "migrator_for", "repair", "status"]


@contextmanager
def migrator_for(settings: Settings, name: str) -> Iterator[Migrator]:
    """A ``Migrator`` for connection ``name``, its folder checked, its engine closed after."""
    from ordo.db.engines import EngineRegistry
    from ordo.migrate.migrator import Migrator

    connection = settings.connection(name)
    folder = connection.migrations
    if folder is None or not folder.is_dir():
        prefix = f"{settings.env_name.upper()}_GLOBAL_{name.upper()}_MIGRATIONS"
        raise ConfigError(
            f"no migrations folder for connection '{connection.name}' (looked for {folder})",
            hint=f"create it, or set {prefix} to the folder holding V<version>__<name>.sql files",
        )
    with EngineRegistry() as engines:
        yield Migrator(
            engines.for_connection(connection),
            folder,
            table=connection.history_table,
            lock_dir=settings.root / ".ordo",
            read_only=connection.read_only,
        )


def migrate(
    settings: Settings,
    name: str = "default",
    *,
    target: str | None = None,
    out_of_order: bool = False,
    dry_run: bool = False,
) -> MigrateResult:
    """Validate, then apply pending migrations in order (up to ``target``); see ``Migrator``."""
    with migrator_for(settings, name) as migrator:
        return migrator.migrate(target=target, out_of_order=out_of_order, dry_run=dry_run)


def status(settings: Settings, name: str = "default") -> MigrationStatus:
    with migrator_for(settings, name) as migrator:
        return migrator.status()


def repair(settings: Settings, name: str = "default") -> RepairResult:
    """Realign checksums after a deliberate change and remove failed entries."""
    with migrator_for(settings, name) as migrator:
        return migrator.repair()


def baseline(settings: Settings, name: str, version: str, description: str | None = None) -> None:
    """Mark an existing database as being at ``version``."""
    with migrator_for(settings, name) as migrator:
        if description:
            migrator.baseline(version, description)
        else:
            migrator.baseline(version)
