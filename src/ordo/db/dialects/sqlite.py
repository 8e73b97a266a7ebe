"""SQLite (the stdlib sqlite3): no date or boolean types, interrupt() for timeouts.

SQLite folds nothing but matches names case-insensitively, so quoting a name as written finds
the table whatever case it was created in.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, TextClause, event, text
from sqlalchemy.engine import Dialect as SADialect

from ordo.db.dialects.base import (
    ColumnTypeSpec,
    Dialect,
    ErrorKind,
    catalog_query,
    first_line,
    pool_options,
    run_on_connect,
)
from ordo.db.dialects.names import TableName
from ordo.db.dialects.scripts import ScriptSyntax

if TYPE_CHECKING:
    from ordo.config.connections import ConnectionSettings
    from ordo.db.dialects.names import TableName

__all__ = ["SQLiteDialect"]

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_INTERRUPT = 9

_SCHEMA = "COALESCE(:catalog_schema, 'main')"
_RELATIONS = f"""
SELECT name, schema AS schema_name, type = 'view' AS is_view FROM pragma_table_list
WHERE schema = {_SCHEMA} AND type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY name
"""
# A foreign key names its parent as the CREATE TABLE wrote it, in its own schema: the stored
# name is the table of that name, compared without case as SQLite resolves it. One row per
# column of a key, and no key names: DISTINCT, NULL.
_FOREIGN_KEYS = f"""
SELECT DISTINCT m.schema, m.name, 0, r.schema, r.name, 0, NULL
FROM pragma_table_list AS m
JOIN pragma_foreign_key_list(m.name, m.schema) AS f
JOIN pragma_table_list AS r
  ON r.schema = m.schema AND r.name = f."table" COLLATE NOCASE AND r.type = 'table'
WHERE m.type = 'table' AND m.schema = {_SCHEMA}
"""


class SQLiteDialect(Dialect):
    backend = "sqlite"
    names = ("sqlite",)
    driver_modules = ("sqlite3", "_sqlite3")
    transactional_ddl = True  # given the BEGIN handling in install_events
    script_syntax = ScriptSyntax(complete_statement=sqlite3.complete_statement, bracket_quotes=True)

    @classmethod
    def offline_sa_dialect(cls, name: str) -> SADialect:
        # deferred: only the backend in use
        from sqlalchemy.dialects.sqlite.base import SQLiteDialect as SASQLite

        return SASQLite()

    # -- engines --------------------------------------------------------------------------

    def engine_options(
        self, url: URL, settings: ConnectionSettings | None, *, busy_timeout: float
    ) -> dict[str, Any]:
        """A short busy timeout (unless the URL sets ``?timeout=``), and a sized pool for a file.

        The default busy timeout waits long on a locked file; a short one makes lock
        contention surface as a transient error that the runner retries with backoff. An
        in-memory database keeps SQLAlchemy's own pool: it lives in its connection.
        """
        connect_args: dict[str, Any] = {}
        if "timeout" not in url.query:
            connect_args["timeout"] = busy_timeout
        options: dict[str, Any] = {"connect_args": connect_args}
        if settings is not None and url.database not in (None, "", ":memory:"):
            options.update(pool_options(settings))
        return options

    def install_events(self, engine: Engine, *, read_only: bool) -> None:
        """Own the transactions, and ``PRAGMA query_only`` for a read-only connection.

        Python's sqlite3 module (before 3.12's ``autocommit``) does not begin a transaction
        before DDL, so a rolled-back transaction group would leave its ``CREATE TABLE``
        behind: ordo turns the module's own transaction handling off and emits ``BEGIN``
        itself when SQLAlchemy begins (the recipe in SQLAlchemy's SQLite docs).
        """
        event.listen(engine, "connect", _no_implicit_transactions)
        event.listen(engine, "begin", _begin)
        if read_only:
            event.listen(engine, "connect", run_on_connect("PRAGMA query_only = ON"))

    def begin_autocommit(self, conn: Connection) -> Callable[[], None]:
        """As on every backend; ``end`` then also puts sqlite3's own transaction handling back
        as it was (SQLAlchemy's reset of the isolation level turns it on again)."""
        dbapi = conn.connection.dbapi_connection
        before = getattr(dbapi, "isolation_level", None)
        restore = super().begin_autocommit(conn)

        def end() -> None:
            restore()
            if dbapi is not None:
                dbapi.isolation_level = before

        return end

    def begin_for_ddl(self, conn: Connection) -> None:
        """``BEGIN`` on an engine made without ``install_events``, whose sqlite3 module would
        otherwise autocommit each DDL statement."""
        dbapi = conn.connection.dbapi_connection
        if dbapi is not None and not getattr(dbapi, "in_transaction", True):
            conn.exec_driver_sql("BEGIN")

    # -- where the database lives ---------------------------------------------------------

    def is_in_memory(self, url: URL) -> bool:
        database = url.database or ""
        return (
            not database
            or ":memory:" in database
            or "mode=memory" in database
            or url.query.get("mode") == "memory"
        )

    def database_file(self, url: URL) -> Path | None:
        """The file, also of a ``file:`` URI (its query left off); ``None`` in memory."""
        if self.is_in_memory(url):
            return None
        database = url.database or ""
        return Path(database.removeprefix("file:").split("?", 1)[0])

    def single_writer_lane(self, url: URL) -> str | None:
        """SQLite has one writer: two transactions that both read and then write deadlock."""
        return f"sqlite:{Path(url.database or '').resolve()}"

    def write_probe(self, conn: Connection) -> Callable[[], bool] | None:
        """Rows changed (``total_changes``) or the schema changed (``schema_version``).

        The PRAGMA goes straight to the sqlite3 connection, not through SQLAlchemy: it runs
        twice per unit of a run with a ledger, and SQLAlchemy's execution path (events, result
        objects) cost more than the query. It reads, in the unit's own transaction.
        """
        raw = conn.connection.dbapi_connection
        if raw is None:  # pragma: no cover - a Connection in use always holds its DBAPI one
            return None

        cursor = raw.cursor()  # one for both reads

        def state() -> tuple[int, int]:
            row = cursor.execute("PRAGMA schema_version").fetchone()
            return int(getattr(raw, "total_changes", 0)), int(row[0] if row else 0)

        before = state()
        return lambda: state() != before

    # The catalog: tables, views and what depends on what
    # (sqlite_schema keeps a view's text only; SQLite drops views and tables in any order)

    def catalog_relations_query(self, schema: str | None) -> TextClause:
        return catalog_query(_RELATIONS, schema)

    def catalog_dependencies_query(self, schema: str | None) -> TextClause:
        return catalog_query(_FOREIGN_KEYS, schema)

    def drop_foreign_key_sql(self, table: TableName, constraint: str | None) -> str:
        """SQLite cannot drop a constraint; with ``PRAGMA foreign_keys`` on it checks them at
        commit instead, by when every table of the cycle is gone (the pragma ends there)."""
        return "PRAGMA defer_foreign_keys = ON"

    def quote_bool(self, value: bool) -> str:
        return "1" if value else "0"  # TRUE/FALSE only exist since SQLite 3.23

    def quote_date(self, value: dt.date) -> str:
        # SQLite has no date type: ISO text is what its date functions and SQLAlchemy use.
        return f"'{value.isoformat()}'"

    def quote_datetime(self, value: dt.datetime) -> str:
        return f"'{value.isoformat(sep=' ')}'"

    def cancel(self, dbapi_connection: Any) -> None:
        # sqlite3 documents interrupt() as safe to call from another thread.
        dbapi_connection.interrupt()

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        code = getattr(error, "sqlite_errorcode", None)
        if isinstance(code, int):
            primary = code & 0xFF  # extended codes keep the primary code in the low byte
            if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
                return ErrorKind.TRANSIENT
            if primary == _SQLITE_INTERRUPT:
                return ErrorKind.TIMEOUT
            return ErrorKind.PERMANENT
        message = str(error).lower()
        if "database is locked" in message or "database table is locked" in message:
            return ErrorKind.TRANSIENT
        if message == "interrupted":
            return ErrorKind.TIMEOUT
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        name = getattr(error, "sqlite_errorname", None)
        message = first_line(str(error))
        return f"{message} [{name}]" if name else message

    # Creating and filling tables (seeds, loads)

    # SQLite keeps a declared type verbatim and stores by affinity: dates and timestamps are
    # ISO text (what its date functions read), booleans 0/1. It has no exact decimal:
    # NUMERIC stores a decimal as an integer or a REAL, exact to 15 significant digits.
    type_names = {
        "integer": "BIGINT",
        "decimal": "NUMERIC",
        "float": "REAL",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMPTZ",
        "time": "TIME",
        "text": "TEXT",
        "binary": "BLOB",
        "json": "TEXT",
    }

    def table_columns(self, conn: Connection, table: TableName) -> list[tuple[str, str]] | None:
        """``pragma_table_info``, which gives each column's type as declared."""
        query = text("SELECT name, type FROM pragma_table_info(:table, :schema)")
        schema = self.stored_name(table.schema) if table.schema else "main"
        rows = conn.execute(query, {"table": self.stored_name(table.table), "schema": schema})
        return [(str(name), str(kind)) for name, kind in rows.all()] or None

    def bind_converter(self, type: ColumnTypeSpec) -> Callable[[Any], Any] | None:
        """Decimals as their text (sqlite3 cannot bind a ``Decimal``), dates and times as ISO
        text (sqlite3's own date adapters are deprecated)."""
        return _sqlite_value if type.kind in _CONVERTED_KINDS else None


_CONVERTED_KINDS = frozenset({"decimal", "date", "timestamp", "timestamptz", "time"})


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _no_implicit_transactions(dbapi_connection: Any, connection_record: Any) -> None:
    # Stop sqlite3 from issuing BEGIN/COMMIT on its own guesses; _begin takes over.
    dbapi_connection.isolation_level = None


def _begin(conn: Connection) -> None:
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    # Straight to sqlite3: SQLAlchemy's execution path (events, a result object) cost more
    # than the statement, once per unit of a run. A deferred BEGIN takes no lock, so it
    # cannot fail the way a statement can.
    driver = conn.connection.driver_connection
    if driver is None:  # pragma: no cover - a Connection in use always holds its DBAPI one
        conn.exec_driver_sql("BEGIN")
    else:
        driver.execute("BEGIN")
