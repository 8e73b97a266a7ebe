"""Flyway-style SQL migrations: versioned and repeatable files, a history table, a lock.

    from ordo.migrations import Migrator

    migrator = Migrator(engine, Path("core/migrations/rpa_db"))
    migrator.status()            # current version, pending, applied, failed, problems
    migrator.migrate()           # apply what is pending, in order
    migrator.migrate(dry_run=True)
    migrator.repair()            # after a deliberate change, or to clear a failed entry
    migrator.baseline("5")       # an existing database starts at V5

Modules: ``files`` (names, versions, checksums), ``statements`` (splitting a file),
``history`` (the table), ``resolve`` (files vs history), ``locks`` (one migrator at a time),
``transactions`` (which files run outside a transaction), ``apply`` (one migration),
``migrator`` (the commands), ``results`` and ``errors``.
"""

from ordo.migrations.errors import (
    BaselineRefused,
    MigrationError,
    MigrationFailed,
    MigrationFilesInvalid,
    MigrationLockTimeout,
    MigrationMixed,
    MigrationReadOnly,
    MigrationValidationError,
)
from ordo.migrations.files import MigrationFile, Version, checksum
from ordo.migrations.history import HistoryEntry
from ordo.migrations.migrator import Migrator
from ordo.migrations.placeholders import MigrationPlaceholderMissing, Placeholders
from ordo.migrations.results import (
    AppliedMigration,
    MigrateResult,
    MigrationStatus,
    Realignment,
    RepairResult,
)

__all__ = [
    "AppliedMigration",
    "BaselineRefused",
    "HistoryEntry",
    "MigrateResult",
    "MigrationError",
    "MigrationFailed",
    "MigrationFile",
    "MigrationFilesInvalid",
    "MigrationLockTimeout",
    "MigrationMixed",
    "MigrationPlaceholderMissing",
    "MigrationReadOnly",
    "MigrationStatus",
    "MigrationValidationError",
    "Migrator",
    "Placeholders",
    "Realignment",
    "RepairResult",
    "Version",
    "checksum",
]
