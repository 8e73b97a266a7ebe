"""Use cases over a connection's migrations: apply, status, repair, baseline.

Each call opens its own engine for the connection and closes it afterwards, so a command
line or a scheduler calling these never keeps connections open between calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ordo.migrations.migrator import migrator_for

if TYPE_CHECKING:
    from ordo.config import Settings
    from ordo.migrations.results import MigrateResult, MigrationStatus, RepairResult

__all__ = ["baseline", "migrate", "repair", "status"]


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
