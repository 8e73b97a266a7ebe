"""PostgreSQL (psycopg 3): lower-case folding, server-side statement timeouts, SQLSTATE rules."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, TextClause, func, select, text
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.exc import DBAPIError

from ordo.db.dialects._timeout import check_seconds
from ordo.db.dialects.base import (
    OUTPUT_BATCH,
    CsvSource,
    Dialect,
    ErrorKind,
    catalog_query,
    first_line,
    mro_names,
)
from ordo.db.dialects.names import TableName
from ordo.db.dialects.scripts import ScriptSyntax

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.config.connections import ConnectionSettings
    from ordo.tabular import TableWriter

__all__ = ["PostgreSQLDialect"]

# SQLSTATEs worth a retry besides class 08 (connection exception): serialization failure,
# deadlock, lock not available (also raised by lock_timeout and NOWAIT), admin/crash
# shutdown, cannot connect now (server starting), too many connections.
_TRANSIENT = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"})
_QUERY_CANCELED = "57014"
_COPY_CHUNK = 1 << 20  # characters of CSV text per write to COPY
_FEATURE_NOT_SUPPORTED = "0A000"  # TRUNCATE of a table a foreign key points at
# Connection failures carry no SQLSTATE in psycopg; these words mean "fix the settings".
_PERMANENT_CONNECT = ("does not exist", "authentication failed", "no pg_hba.conf entry")

_SCHEMA = "COALESCE(CAST(:catalog_schema AS text), current_schema())"
# Plain tables, partitioned tables (a partition goes with its parent) and views.
_RELATIONS = f"""
SELECT c.relname AS name, n.nspname AS schema_name, c.relkind = 'v' AS is_view
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {_SCHEMA} AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
ORDER BY c.relname
"""
# Foreign keys (those a partition inherits from its parent left out), then the views whose
# rewrite rule reads a relation: pg_depend has a row per column read, hence UNION.
_DEPENDENCIES = f"""
SELECT dn.nspname, d.relname, d.relkind IN ('v', 'm'), rn.nspname, r.relname, false,
       k.conname
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class d ON d.oid = k.conrelid
JOIN pg_catalog.pg_namespace dn ON dn.oid = d.relnamespace
JOIN pg_catalog.pg_class r ON r.oid = k.confrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype = 'f' AND k.conparentid = 0 AND rn.nspname = {_SCHEMA}
UNION
SELECT vn.nspname, v.relname, true, rn.nspname, r.relname, r.relkind IN ('v', 'm'), NULL
FROM pg_catalog.pg_depend p
JOIN pg_catalog.pg_rewrite w ON w.oid = p.objid
JOIN pg_catalog.pg_class v ON v.oid = w.ev_class
JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
JOIN pg_catalog.pg_class r ON r.oid = p.refobjid
JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
WHERE p.classid = CAST('pg_catalog.pg_rewrite' AS regclass)
  AND p.refclassid = CAST('pg_catalog.pg_class' AS regclass)
  AND p.deptype = 'n' AND v.oid <> r.oid AND rn.nspname = {_SCHEMA}
"""


class PostgreSQLDialect(Dialect):
    backend = "postgresql"
    names = ("postgresql", "postgres")
    driver_modules = ("psycopg", "psycopg2")
    transactional_ddl = True
    migration_lock = "pg_advisory_lock"
    connect_timeout_arg = "connect_timeout"
    read_only_sql = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
    script_syntax = ScriptSyntax(
        escape_strings=True,
        dollar_quotes=True,
        nested_comments=True,
        backtick_quotes=False,
        copy_from_stdin=True,
    )

    @classmethod
    def offline_sa_dialect(cls, name: str) -> SADialect:
        # deferred: only the backend in use
        from sqlalchemy.dialects.postgresql.base import PGDialect

        return PGDialect()  # type: ignore[no-untyped-call]

    def engine_options(
        self, url: URL, settings: ConnectionSettings | None, *, busy_timeout: float
    ) -> dict[str, Any]:
        """As for every server, plus ``application_name=ordo`` (visible in pg_stat_activity)
        unless the URL names one."""
        options = super().engine_options(url, settings, busy_timeout=busy_timeout)
        if "application_name" not in url.query:
            options["connect_args"]["application_name"] = "ordo"
        return options

    def copy_in(self, conn: Connection, sql: str, data: str) -> None:
        """The rows go through psycopg's ``cursor.copy`` on the connection's own DBAPI
        connection, so they join its transaction (or its autocommit); sent through
        ``execute`` they would leave the connection waiting for rows that never come."""
        raw: Any = conn.connection.dbapi_connection  # psycopg 3: URLs are rewritten to it
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(data)

    @contextmanager
    def notices(self, conn: Connection, emit: Callable[[str], None]) -> Iterator[None]:
        """``RAISE NOTICE`` and the like, as ``NOTICE: text``: psycopg drops them unless a
        handler is added to the connection (psycopg2 keeps them in a list nobody reads)."""
        raw = conn.connection.driver_connection
        add = getattr(raw, "add_notice_handler", None)
        if raw is None or add is None:
            yield
            return

        def handler(diagnostic: Any) -> None:
            emit(f"{diagnostic.severity}: {diagnostic.message_primary}")

        add(handler)
        try:
            yield
        finally:
            raw.remove_notice_handler(handler)

    def write_probe(self, conn: Connection) -> Callable[[], bool] | None:
        """A transaction gets an id only when it writes (PostgreSQL 13+ can say so)."""
        version = conn.dialect.server_version_info or (0,)
        if version < (13,):
            return None

        query = "SELECT pg_current_xact_id_if_assigned() IS NOT NULL"
        driver = conn.connection.driver_connection

        def wrote() -> bool:
            # Straight to psycopg, once per unit: SQLAlchemy's execution path cost about as
            # much as the round trip. A failure is the driver's own error, which
            # ``database_errors`` knows.
            if driver is None:  # pragma: no cover - a Connection in use holds its DBAPI one
                return bool(conn.exec_driver_sql(query).scalar())
            row = driver.execute(query).fetchone()
            return bool(row and row[0])

        return wrote

    def write_result(
        self, conn: Connection, sql: str, writer: TableWriter, *, batch: int = OUTPUT_BATCH
    ) -> int | None:
        """CSV of a query through ``COPY``, the rest through a psycopg cursor, on the unit's
        connection and in its transaction (see ``_pg_output``)."""
        from ordo.db.dialects import _pg_output  # deferred: only when writing a file

        return _pg_output.write_result(conn.connection.dbapi_connection, sql, writer, batch=batch)

    def fold(self, identifier: str) -> str:
        return identifier.lower()

    # The catalog: tables, views and what depends on what

    knows_what_views_read = True  # pg_depend: a view's rewrite rule depends on what it reads

    def catalog_relations_query(self, schema: str | None) -> TextClause:
        return catalog_query(_RELATIONS, schema)

    def catalog_dependencies_query(self, schema: str | None) -> TextClause:
        return catalog_query(_DEPENDENCIES, schema)

    # Strings use the inherited standard form ('' doubling, backslash literal), which is what
    # PostgreSQL reads with standard_conforming_strings = on, its default since 9.1.

    @contextmanager
    def statement_timeout(self, conn: Connection, seconds: float | None) -> Iterator[None]:
        """``statement_timeout`` set with ``set_config(..., is_local)``, restored afterwards.

        Inside a transaction the setting is ``LOCAL``: it can never outlive the transaction,
        even if the restore below does not run. In autocommit mode ``LOCAL`` would be a no-op,
        so the session setting is changed and put back. After a statement error the
        transaction is aborted and the caller's rollback undoes the setting; the restore is
        still attempted, quietly, for errors that did not come from the database.
        """
        if seconds is None:
            yield
            return
        milliseconds = max(1, math.ceil(check_seconds(seconds) * 1000))
        is_local = not getattr(conn.connection.dbapi_connection, "autocommit", False)
        previous = conn.execute(select(func.current_setting("statement_timeout"))).scalar_one()
        conn.execute(select(func.set_config("statement_timeout", str(milliseconds), is_local)))
        try:
            yield
        except BaseException:
            with suppress(Exception):
                conn.execute(select(func.set_config("statement_timeout", previous, is_local)))
            raise
        conn.execute(select(func.set_config("statement_timeout", previous, is_local)))

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if not sqlstate:
            names = mro_names(error)
            if "OperationalError" in names or "InterfaceError" in names:
                message = str(error)
                if any(words in message for words in _PERMANENT_CONNECT):
                    return ErrorKind.PERMANENT
                return ErrorKind.TRANSIENT  # refused, reset, server closed the connection
            return ErrorKind.PERMANENT
        if sqlstate == _QUERY_CANCELED:
            return ErrorKind.TIMEOUT
        if sqlstate.startswith("08") or sqlstate in _TRANSIENT:
            return ErrorKind.TRANSIENT
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        """First line, the ``LINE n:`` pointer when there is one, DETAIL, and the SQLSTATE."""
        lines = [line for line in str(error).strip().splitlines() if line.strip()]
        message = first_line(str(error)).replace("connection failed: ", "", 1)
        if len(lines) > 1 and lines[1].startswith("LINE "):
            message += f" [{lines[1].strip()}]"
        diag = getattr(error, "diag", None)
        detail = getattr(diag, "message_detail", None)
        if detail:
            message += f" ({first_line(detail)})"
        sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        return f"{message} [SQLSTATE {sqlstate}]" if sqlstate else message

    # Creating and filling tables (seeds, loads)

    type_names = {
        "integer": "bigint",
        "decimal": "numeric",
        "float": "double precision",
        "boolean": "boolean",
        "date": "date",
        "timestamp": "timestamp",
        "timestamptz": "timestamptz",
        "time": "time",
        "text": "text",
        "binary": "bytea",
        "json": "jsonb",
    }
    type_aliases = {  # format_type's spellings
        "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ",
        "TIME WITHOUT TIME ZONE": "TIME",
        "INT8": "BIGINT",
        "BOOL": "BOOLEAN",
    }
    placeholder = "%s"
    drop_cascade = "CASCADE"

    def table_columns(self, conn: Connection, table: TableName) -> list[tuple[str, str]] | None:
        """From ``pg_attribute`` with ``format_type``, which spells ``numeric(12,3)`` in full;
        ``to_regclass`` finds the table as a query would (``search_path`` included)."""
        name = self.quote_table(table)
        if conn.execute(text("SELECT to_regclass(:name) IS NULL"), {"name": name}).scalar():
            return None
        query = text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(:name) AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum"
        )
        return [(str(n), str(t)) for n, t in conn.execute(query, {"name": name}).all()]

    def empty_table(self, conn: Connection, table_sql: str) -> None:
        """``TRUNCATE`` (transactional here, and much faster than ``DELETE`` on a big table),
        or ``DELETE`` when a foreign key points at the table (``TRUNCATE`` refuses then)."""
        try:
            with conn.begin_nested():
                self.execute(conn, f"TRUNCATE TABLE {table_sql}", fetch=False)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != _FEATURE_NOT_SUPPORTED:
                raise
            super().empty_table(conn, table_sql)

    def load_arrow(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        batches: Iterator[pa.RecordBatch],
    ) -> int:
        from ordo.db.dialects import _pg_arrow

        return _pg_arrow.load_arrow(self, conn, table_sql, columns_sql, batches)

    def load_csv(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        types_sql: Sequence[str],
        source: CsvSource,
    ) -> int | None:
        """Binary ``COPY`` of the typed values where they are exactly the table's types
        (``_pg_binary``: the server has no text to parse); else ``COPY ... FROM STDIN
        (FORMAT csv)`` streaming the checked text, which the server parses as written.
        ``NULL`` takes one marker there (``FORCE_NULL`` makes a quoted one NULL too); several
        markers need ``insert_rows``."""
        from ordo.db.dialects import _pg_binary

        raw: Any = conn.connection.dbapi_connection
        typed = source.typed() if source.typed and _pg_binary.installed() else None
        if typed is not None:
            binary = _pg_binary.binary_schema(raw, table_sql, columns_sql, typed.schema)
            if binary is not None:
                batches = typed.to_batches()
                return _pg_binary.copy_binary(raw, table_sql, columns_sql, binary, batches)
        markers = source.null_markers()
        if len(markers) > 1:
            return None
        columns = ", ".join(columns_sql)
        options = ", ".join(
            [
                "FORMAT csv",
                f"DELIMITER {self.quote_string(source.delimiter)}",
                f"QUOTE {self.quote_string(source.quote)}",
                f"NULL {self.quote_string(markers[0])}",
                f"FORCE_NULL ({columns})",
            ]
        )
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table_sql} ({columns}) FROM STDIN ({options})") as copy:
                body = source.body
                for start in range(0, len(body), _COPY_CHUNK):
                    copy.write(body[start : start + _COPY_CHUNK])
            return int(cursor.rowcount)

    def bulk_insert(
        self,
        conn: Connection,
        table_sql: str,
        columns_sql: Sequence[str],
        rows: Iterable[Sequence[Any]],
    ) -> int:
        """``COPY ... FROM STDIN`` fed row by row (psycopg's ``write_row`` adapts the Python
        values), on the connection's own DBAPI connection and so in its transaction."""
        raw: Any = conn.connection.dbapi_connection
        sql = f"COPY {table_sql} ({', '.join(columns_sql)}) FROM STDIN"
        count = 0
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                count += 1
        return count
