"""Run one migration and write its history row, in the way its database allows.

- Transactional DDL (PostgreSQL, SQLite, DuckDB): statements and history row in one
  transaction. A failure rolls all of it back; nothing is recorded and the next run retries.
- MySQL/MariaDB: the same transaction (it still covers the DML), but each DDL statement
  commits on its own, so a failure may leave part of the file applied. It is recorded with
  ``success = false`` in a transaction of its own, which blocks later runs until ``repair``.
- ``-- ordo:no-transaction``: each statement in autocommit (``CREATE INDEX CONCURRENTLY``,
  ``VACUUM`` refuse a transaction), the row written afterwards; a failure is recorded as on
  MySQL, since what ran is kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from ordo.db.dialects import Dialect
from ordo.db.errors import database_errors
from ordo.db.statements import Statement, split_statements
from ordo.errors import ExecutionError
from ordo.masking import Masker
from ordo.migrations.errors import MigrationFailed
from ordo.migrations.files import MigrationFile
from ordo.migrations.history import History
from ordo.migrations.results import AppliedMigration

__all__ = ["Applier", "transaction"]


@contextmanager
def transaction(engine: Engine, dialect: Dialect) -> Iterator[Connection]:
    """A connection in a transaction that DDL joins, even on a SQLite engine made without
    ``ordo.db.engines`` (whose sqlite3 module would autocommit each DDL statement)."""
    with engine.connect() as conn, conn.begin():
        dialect.begin_for_ddl(conn)
        yield conn


@dataclass(frozen=True)
class Applier:
    """Applies migrations to one database; ``before`` lets a failure report what ran.

    With ``connection`` every migration runs on it, inside the caller's transaction, which
    commits or rolls back all of them (``Migrator.migrate_on``)."""

    engine: Engine
    dialect: Dialect
    history: History
    installed_by: str
    masker: Masker
    connection: Connection | None = None

    def apply(self, migration: MigrationFile, before: list[AppliedMigration]) -> AppliedMigration:
        statements = split_statements(migration.sql, self.dialect.script_syntax)
        started = time.perf_counter()
        statement: Statement | None = None
        try:
            with database_errors(masker=self.masker):
                if migration.no_transaction:
                    with self.engine.connect() as conn:
                        if self.dialect.supports_autocommit:
                            conn.execution_options(isolation_level="AUTOCOMMIT")
                        for statement in statements:
                            with conn.begin():  # a real transaction only on DuckDB
                                self.dialect.execute(conn, statement.sql, fetch=False)
                    statement = None
                    with transaction(self.engine, self.dialect) as conn:
                        elapsed = self._record(conn, migration, started, success=True)
                else:
                    with self._transaction() as conn:
                        for statement in statements:
                            self.dialect.execute(conn, statement.sql, fetch=False)
                        statement = None
                        elapsed = self._record(conn, migration, started, success=True)
        except ExecutionError as exc:
            raise self._failure(migration, statement, exc, started, before) from exc
        version = migration.version.text if migration.version else None
        return AppliedMigration(version, migration.description, migration.script, elapsed)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        if self.connection is not None:
            yield self.connection  # the caller's transaction
            return
        with transaction(self.engine, self.dialect) as conn:
            yield conn

    def _record(
        self, conn: Connection, migration: MigrationFile, started: float, *, success: bool
    ) -> int:
        elapsed = int((time.perf_counter() - started) * 1000)
        self.history.add(
            conn, migration, installed_by=self.installed_by, execution_time=elapsed, success=success
        )
        return elapsed

    def _failure(
        self,
        migration: MigrationFile,
        statement: Statement | None,
        cause: ExecutionError,
        started: float,
        before: list[AppliedMigration],
    ) -> MigrationFailed:
        kept = migration.no_transaction or not self.dialect.transactional_ddl
        if not kept:
            hint = "nothing of it was kept (it ran in one transaction): fix it, run `ordo migrate`"
        elif self._record_failure(migration, started):
            hint = (
                "it may be partly applied and is recorded as failed: undo what it did if "
                "needed, fix it, run `ordo migrate repair`, then `ordo migrate`"
            )
        else:
            hint = "it may be partly applied and could not be recorded as failed: check by hand"
        where = (
            f"statement {statement.number} (line {statement.line}: {statement.first_line})"
            if statement
            else "recording it in the history table"
        )
        return MigrationFailed(
            f"migration {migration.label} ({migration.script}) failed at {where}: {cause.message}",
            file=migration.path,
            line=statement.line if statement else None,
            hint=hint,
            statement=statement.number if statement else None,
            cause=cause,
            applied=before,
        )

    def _record_failure(self, migration: MigrationFile, started: float) -> bool:
        try:
            with (
                database_errors(masker=self.masker),
                transaction(self.engine, self.dialect) as conn,
            ):
                self._record(conn, migration, started, success=False)
        except ExecutionError:
            return False  # the connection is gone too; the hint says so
        return True
