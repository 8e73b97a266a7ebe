"""Run one migration and write its history row, in the way its database allows.

- Transactional DDL (PostgreSQL, SQLite, DuckDB): statements and history row in one
  transaction. A failure rolls all of it back; nothing is recorded and the next run retries.
- MySQL/MariaDB: the same transaction (it still covers the DML), but each DDL statement
  commits on its own, so a failure may leave part of the file applied. It is recorded with
  ``success = false`` in a transaction of its own, which blocks later runs until ``repair``.
- Outside a transaction: each statement in autocommit, the row written afterwards; a failure
  is recorded as on MySQL, since what ran is kept. For a file whose first line is
  ``-- ordo:no-transaction``, and on PostgreSQL for a file made only of statements that refuse
  a transaction (``CREATE INDEX CONCURRENTLY``, ``VACUUM``: ``transactions.py``). A file that
  mixes those with other statements is refused before anything runs, unless ``mixed`` allows
  it (then it runs outside a transaction too).
- On PostgreSQL a ``SET ROLE`` in a migration would write the history row as that role,
  which may not be allowed to: the role the session had before the migration is restored first.
- A PostgreSQL ``COPY ... FROM stdin`` with its rows inline (pg_dump's format) sends them
  through the driver's COPY (``Dialect.copy_in``), in the migration's transaction. A block
  without its ``\\.`` line is refused, naming file and line, before any migration runs.
- Callbacks (``callbacks.py``): ``beforeEachMigrate`` and ``afterEachMigrate`` run on the
  migration's connection, in its transaction when it has one; ``afterEachMigrateError`` after
  a failure, in a transaction of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

from ordo.db.dialects import Dialect
from ordo.db.errors import database_errors
from ordo.db.statements import CopyDataUnterminated, Statement, split_statements
from ordo.errors import ExecutionError
from ordo.masking import Masker
from ordo.migrations.callbacks import CallbackFailed, Callbacks, Event
from ordo.migrations.errors import MigrationFailed, MigrationFilesInvalid, MigrationMixed
from ordo.migrations.files import MigrationFile
from ordo.migrations.history import History
from ordo.migrations.results import AppliedMigration
from ordo.migrations.transactions import transaction_plan

__all__ = ["Applier", "transaction"]

_LOG = logging.getLogger("ordo")


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
    mixed: bool = False  # a file mixing statements that refuse a transaction with others runs
    mixed_setting: str = "MIGRATIONS_MIXED"  # how the refusal's hint names the setting
    callbacks: Callbacks = field(default_factory=Callbacks)  # the folder's SQL callbacks

    def outside_transaction(self, migration: MigrationFile) -> bool:
        """Whether ``migration`` runs in autocommit; ``MigrationMixed`` if it cannot run as
        written (checked for every pending file before the first one runs)."""
        if self.dialect.name != "postgresql":
            return migration.no_transaction
        statements = self._statements(migration)  # a malformed file is refused here too
        if migration.no_transaction:
            return True
        plan = transaction_plan(statements, self._server_version())
        if plan.mixed_at is not None and not self.mixed:
            at = plan.mixed_at
            raise MigrationMixed(
                f"migration {migration.label} ({migration.script}) mixes statements that cannot "
                f"run in a transaction (line {at.line}: {at.first_line}) with ones that can",
                file=migration.path,
                line=at.line,
                hint="move that statement to a migration of its own, or set "
                f"{self.mixed_setting}=true (`mixed: true` on a migrate step) to run the "
                "whole file outside a transaction",
            )
        return plan.autocommit

    def apply(self, migration: MigrationFile, before: list[AppliedMigration]) -> AppliedMigration:
        outside = self.outside_transaction(migration)
        statements = self._statements(migration)
        started = time.perf_counter()
        statement: Statement | None = None
        try:
            with database_errors(masker=self.masker):
                if outside:
                    with self.engine.connect() as conn:
                        if self.dialect.supports_autocommit:
                            conn.execution_options(isolation_level="AUTOCOMMIT")
                        with conn.begin():
                            role = self._role(conn)
                        try:
                            self._callbacks(conn, Event.BEFORE_EACH_MIGRATE, autocommit=True)
                            for statement in statements:
                                with conn.begin():  # a real transaction only on DuckDB
                                    self.dialect.run_statement(
                                        conn, statement.sql, statement.copy_data
                                    )
                            statement = None
                            self._callbacks(conn, Event.AFTER_EACH_MIGRATE, autocommit=True)
                        except BaseException:
                            conn.invalidate()  # it may hold the file's SET ROLE: not for reuse
                            raise
                        with conn.begin():
                            self._restore_role(conn, role)
                    with transaction(self.engine, self.dialect) as conn:
                        elapsed = self._record(conn, migration, started, success=True)
                else:
                    with self._transaction() as conn:
                        role = self._role(conn)
                        self._callbacks(conn, Event.BEFORE_EACH_MIGRATE)
                        for statement in statements:
                            self._run(conn, statement)
                        statement = None
                        self._callbacks(conn, Event.AFTER_EACH_MIGRATE)
                        self._restore_role(conn, role)
                        elapsed = self._record(conn, migration, started, success=True)
        except ExecutionError as exc:
            raise self._failure(migration, statement, exc, started, before, outside) from exc
        version = migration.version.text if migration.version else None
        return AppliedMigration(version, migration.description, migration.script, elapsed)

    def _run(self, conn: Connection, statement: Statement) -> None:
        self.dialect.run_statement(conn, statement.sql, statement.copy_data)

    def _callbacks(self, conn: Connection, event: Event, *, autocommit: bool = False) -> None:
        self.callbacks.run(
            conn, event, dialect=self.dialect, masker=self.masker, autocommit=autocommit
        )

    def _after_each_error(self) -> None:
        """``afterEachMigrateError``, once the failed migration's transaction is over (a
        failed PostgreSQL transaction refuses every statement); its own failure is logged."""
        if not self.callbacks.for_event(Event.AFTER_EACH_MIGRATE_ERROR):
            return
        try:
            with (
                database_errors(masker=self.masker),
                transaction(self.engine, self.dialect) as conn,
            ):
                self._callbacks(conn, Event.AFTER_EACH_MIGRATE_ERROR)
        except ExecutionError as exc:
            _LOG.warning("%s", exc.message)

    def _statements(self, migration: MigrationFile) -> list[Statement]:
        try:
            return split_statements(migration.sql, self.dialect.script_syntax)
        except CopyDataUnterminated as exc:
            raise MigrationFilesInvalid(
                f"migration {migration.label} ({migration.script}): {exc.message}",
                file=migration.path,
                line=exc.line,
                hint=exc.hint,
            ) from exc

    def _server_version(self) -> tuple[int, ...] | None:
        """The server's version (SQLAlchemy reads it on the engine's first connect)."""
        if self.engine.dialect.server_version_info is None:
            with database_errors(masker=self.masker), self.engine.connect():
                pass
        info = self.engine.dialect.server_version_info
        return tuple(int(p) for p in info if isinstance(p, int)) if info else None

    def _role(self, conn: Connection) -> str | None:
        """The session's role setting on PostgreSQL (``none`` unless a role was set)."""
        if self.dialect.name != "postgresql":
            return None
        return str(conn.execute(text("SELECT current_setting('role')")).scalar_one())

    def _restore_role(self, conn: Connection, role: str | None) -> None:
        """Undo a ``SET ROLE`` of the migration, so the history row (and the next user of the
        pooled connection) acts as the session did before it."""
        if role is not None:
            conn.execute(text("SELECT set_config('role', :role, false)"), {"role": role})

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
        outside: bool,
    ) -> MigrationFailed:
        self._after_each_error()
        kept = outside or not self.dialect.transactional_ddl
        fix = f"fix {cause.callback.script}" if isinstance(cause, CallbackFailed) else "fix it"
        if not kept:
            hint = f"nothing of it was kept (it ran in one transaction): {fix}, run `ordo migrate`"
        elif self._record_failure(migration, started):
            hint = (
                "it may be partly applied and is recorded as failed: undo what it did if "
                f"needed, {fix}, run `ordo migrate repair`, then `ordo migrate`"
            )
        else:
            hint = "it may be partly applied and could not be recorded as failed: check by hand"
        where = (
            f"statement {statement.number} (line {statement.line}: {statement.first_line})"
            if statement
            else "recording it in the history table"
        )
        file, line = migration.path, statement.line if statement else None
        if isinstance(cause, CallbackFailed):  # the callback's file and line, its own error
            where, file, line, cause = cause.where, cause.callback.path, cause.line, cause.cause
        return MigrationFailed(
            f"migration {migration.label} ({migration.script}) failed at {where}: {cause.message}",
            file=file,
            line=line,
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
