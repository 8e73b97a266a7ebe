"""Use cases over a connection's migrations: apply, status, repair, baseline.

Each takes the connection name and ``project=``, ``env_file=``, ``environ=`` like ``ordo.plan``.
Each call opens its own engine for the connection and closes it afterwards, so a command line
or a scheduler calling these never keeps connections open between calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ordo.api._settings import load_settings
from ordo.migrations.migrator import migrator_for
from ordo.migrations.results import MigrateResult, MigrationStatus, RepairResult

__all__ = ["baseline_migrations", "migrate", "migration_status", "repair_migrations"]


def migrate(
    name: str = "default",
    *,
    target: str | None = None,
    out_of_order: bool = False,
    dry_run: bool = False,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> MigrateResult:
    """Validate, then apply pending migrations in order (up to ``target``); see ``Migrator``."""
    with migrator_for(load_settings(project, env_file, environ), name) as migrator:
        return migrator.migrate(target=target, out_of_order=out_of_order, dry_run=dry_run)


def migration_status(
    name: str = "default",
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> MigrationStatus:
    """Current version, applied, failed and pending migrations, and any problem found."""
    with migrator_for(load_settings(project, env_file, environ), name) as migrator:
        return migrator.status()


def repair_migrations(
    name: str = "default",
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> RepairResult:
    """Realign checksums after a deliberate change and remove failed entries."""
    with migrator_for(load_settings(project, env_file, environ), name) as migrator:
        return migrator.repair()


def baseline_migrations(
    name: str = "default",
    *,
    version: str,
    description: str | None = None,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Mark an existing database as being at ``version``: files up to it never run."""
    with migrator_for(load_settings(project, env_file, environ), name) as migrator:
        if description:
            migrator.baseline(version, description)
        else:
            migrator.baseline(version)
