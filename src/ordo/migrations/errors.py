"""What can go wrong with migrations, each error saying which file and what to do next.

    ExecutionError                  (ordo.errors)
    └── MigrationError              a migration command could not do its work
        ├── MigrationFilesInvalid   a file name is malformed, a version is used twice, ...
        ├── MigrationValidationError  the history and the files disagree (tampered,
        │                           missing, out of order, failed entry); nothing ran
        ├── MigrationFailed         a statement of a migration failed while it ran
        ├── MigrationMixed          a file mixes statements that refuse a transaction
        │                           with others (PostgreSQL); it did not run
        ├── MigrationLockTimeout    another migrator held the lock for too long
        ├── MigrationReadOnly       the connection is read-only
        └── BaselineRefused         the history already holds migrations

They are ``ExecutionError``s so that a ``migrate`` step in a manifest fails like any other
step (exit code 1). Errors that stand for several problems (every tampered file, not only the
first) carry them all in ``problems``, so a user fixes everything in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ordo.errors import ExecutionError, Problem

if TYPE_CHECKING:
    from ordo.migrations.applied import AppliedMigration

__all__ = [
    "BaselineRefused",
    "MigrationError",
    "MigrationFailed",
    "MigrationFilesInvalid",
    "MigrationLockTimeout",
    "MigrationMixed",
    "MigrationReadOnly",
    "MigrationValidationError",
]


class MigrationError(ExecutionError):
    """Base of every migration error; ``problems`` lists each thing wrong with file and hint."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | None = None,
        line: int | None = None,
        hint: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message, file=file, line=line, hint=hint)
        self._problems = list(problems)

    @property
    def problems(self) -> list[Problem]:
        if self._problems:
            return list(self._problems)
        return super().problems

    @classmethod
    def gathering(cls, problems: Sequence[Problem]) -> MigrationError:
        """One error standing for all ``problems``; the first gives message, file and hint."""
        first = problems[0]
        return cls(
            first.message, file=first.file, line=first.line, hint=first.hint, problems=problems
        )


class MigrationFilesInvalid(MigrationError):
    """The migration folder cannot be read as a list of migrations; nothing ran."""


class MigrationValidationError(MigrationError):
    """The history table and the files on disk disagree; nothing ran."""


class MigrationFailed(MigrationError):
    """A statement of a migration failed. Migrations before it stay applied.

    ``statement`` is the 1-based number of the failing statement in the file and ``line`` the
    line it starts on; ``cause`` is the translated driver error (a ``TransientError`` when a
    retry may help, which is safe where the migration ran in a transaction); ``applied`` lists
    what this run applied before the failure.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path,
        line: int | None,
        hint: str,
        statement: int | None,
        cause: ExecutionError,
        applied: Sequence[AppliedMigration] = (),
    ) -> None:
        super().__init__(message, file=file, line=line, hint=hint)
        self.statement = statement
        self.cause = cause
        self.applied = tuple(applied)


class MigrationMixed(MigrationError):
    """A migration mixes statements PostgreSQL refuses in a transaction (``CREATE INDEX
    CONCURRENTLY``, ...) with ordinary ones, and mixing is not allowed; it did not run."""


class MigrationLockTimeout(MigrationError):
    """Another migrator of the same history table held the lock past the timeout."""


class MigrationReadOnly(MigrationError):
    """The connection is configured read-only; migrate, repair and baseline are refused."""


class BaselineRefused(MigrationError):
    """``baseline`` would rewrite history: the table already holds migrations."""
