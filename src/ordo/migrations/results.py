"""What the migration commands return: frozen values the CLI, the API and tests read."""

from __future__ import annotations

from dataclasses import dataclass

from ordo.errors import Problem
from ordo.migrations.applied import AppliedMigration
from ordo.migrations.files import MigrationFile
from ordo.migrations.history import HistoryEntry

__all__ = ["AppliedMigration", "MigrateResult", "MigrationStatus", "Realignment", "RepairResult"]


@dataclass(frozen=True)
class MigrateResult:
    """What ``migrate`` did, or for a dry run what it would do.

    ``planned`` is what was (or would be) run, in order; ``applied`` what actually ran, empty
    for a dry run. ``current_version`` is the version after the run (for a dry run, the one
    the run would reach).
    """

    applied: tuple[AppliedMigration, ...]
    planned: tuple[MigrationFile, ...]
    initial_version: str | None
    current_version: str | None
    dry_run: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return not self.planned


@dataclass(frozen=True)
class MigrationStatus:
    """Where the database stands; ``problems`` lists what ``migrate`` would refuse over."""

    current_version: str | None  # as written in the file name ("003", "1.2"); None if none
    applied: tuple[HistoryEntry, ...]  # successful rows, in installation order
    pending: tuple[MigrationFile, ...]  # not yet applied, in run order
    failed: tuple[HistoryEntry, ...]
    problems: tuple[Problem, ...]  # tampered, missing, out of order, failed, misnamed files

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Realignment:
    """One applied row ``repair`` updated to match its file on disk."""

    version: str | None
    script: str
    old_checksum: int | None
    new_checksum: int
    old_description: str
    new_description: str


@dataclass(frozen=True)
class RepairResult:
    """What ``repair`` changed: failed rows removed, applied rows realigned."""

    removed: tuple[HistoryEntry, ...]
    realigned: tuple[Realignment, ...]

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.realigned)
