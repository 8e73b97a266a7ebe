"""SQL Server (pymssql by default, pyodbc when asked): N'' strings, driver query timeouts.

Untested live: no SQL Server runs where ordo is developed. The SQL this module produces is
covered by compiled-SQL unit tests; the driver behaviour follows pymssql's and pyodbc's docs.
``DROP TABLE IF EXISTS`` needs SQL Server 2016 or later.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, TextClause
from sqlalchemy.engine import Dialect as SADialect

from ordo.db.dialects._timeout import check_seconds
from ordo.db.dialects.base import Dialect, ErrorKind, catalog_query, first_line
from ordo.db.dialects.scripts import ScriptSyntax

__all__ = ["MSSQLDialect"]

# deadlock victim, lock request timeout, Azure SQL "busy"/"unavailable"/"service error",
# and the DB-Library codes FreeTDS uses for a dead or unreachable server.
_TRANSIENT = frozenset({1205, 1222, 40197, 40501, 40613, 20004, 20006, 20009, 20017, 20047})
_TRANSIENT_SQLSTATE = frozenset({"40001", "08S01", "08001", "HYT01"})
_TIMEOUT = 20003  # DB-Library: "Adaptive Server connection timed out" (query_timeout)
_TIMEOUT_SQLSTATE = "HYT00"  # ODBC: "Query timeout expired"
_NATIVE_CODE = re.compile(r"\((\d+)\)\s*\(SQL\w+\)\s*$")
_DBLIB_CODE = re.compile(r"DB-Lib error message (\d+)")
_ODBC_PREFIX = re.compile(r"^(\[[^\]]*\])+")

_SCHEMA = "COALESCE(:catalog_schema, SCHEMA_NAME())"
_RELATIONS = f"""
SELECT o.name AS name, s.name AS schema_name,
       CAST(CASE WHEN o.type = 'V' THEN 1 ELSE 0 END AS BIT) AS is_view
FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id
WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0 AND s.name = {_SCHEMA}
ORDER BY o.name
"""
_DEPENDENCIES = f"""
SELECT ds.name, d.name, CASE WHEN d.type = 'V' THEN 1 ELSE 0 END, rs.name, r.name, 0, k.name
FROM sys.foreign_keys k
JOIN sys.objects d ON d.object_id = k.parent_object_id
JOIN sys.schemas ds ON ds.schema_id = d.schema_id
JOIN sys.objects r ON r.object_id = k.referenced_object_id
JOIN sys.schemas rs ON rs.schema_id = r.schema_id
WHERE rs.name = {_SCHEMA}
UNION
SELECT vs.name, v.name, 1, rs.name, r.name, CASE WHEN r.type = 'V' THEN 1 ELSE 0 END, NULL
FROM sys.sql_expression_dependencies x
JOIN sys.objects v ON v.object_id = x.referencing_id AND v.type = 'V'
JOIN sys.schemas vs ON vs.schema_id = v.schema_id
JOIN sys.objects r ON r.object_id = x.referenced_id AND r.type IN ('U', 'V')
JOIN sys.schemas rs ON rs.schema_id = r.schema_id
WHERE v.object_id <> r.object_id AND rs.name = {_SCHEMA}
"""


class MSSQLDialect(Dialect):
    backend = "mssql"
    upserts = False  # no MERGE yet: see Dialect.upserts
    names = ("mssql", "sqlserver")
    driver_modules = ("pymssql", "_mssql", "pyodbc")
    transactional_ddl = True
    migration_lock = "sp_getapplock"
    connect_timeout_arg = "login_timeout"
    script_syntax = ScriptSyntax(go_batches=True, bracket_quotes=True)

    @classmethod
    def offline_sa_dialect(cls, name: str) -> SADialect:
        from sqlalchemy.dialects.mssql.base import MSDialect  # deferred: only the backend in use

        return MSDialect()  # type: ignore[no-untyped-call]

    def limit_rows(self, query: str, count: int) -> str:
        return f"SELECT TOP ({int(count)}) * FROM ({query}) sample_rows"

    # The catalog: tables, views and what depends on what

    knows_what_views_read = True  # sys.sql_expression_dependencies

    def catalog_relations_query(self, schema: str | None) -> TextClause:
        return catalog_query(_RELATIONS, schema)

    def catalog_dependencies_query(self, schema: str | None) -> TextClause:
        return catalog_query(_DEPENDENCIES, schema)

    def quote_string(self, value: str) -> str:
        # N'' keeps characters outside the database's code page; plain '' would turn them to ?.
        return "N'" + value.replace("'", "''") + "'"

    def quote_bool(self, value: bool) -> str:
        return "1" if value else "0"  # BIT; T-SQL has no TRUE/FALSE literals

    def quote_date(self, value: dt.date) -> str:
        # T-SQL has no DATE '...' literal; ISO text cast to DATE is independent of language.
        return f"CAST('{value.isoformat()}' AS DATE)"

    def quote_datetime(self, value: dt.datetime) -> str:
        target = "DATETIMEOFFSET" if value.tzinfo is not None else "DATETIME2"
        return f"CAST('{value.isoformat()}' AS {target})"

    @contextmanager
    def statement_timeout(self, conn: Connection, seconds: float | None) -> Iterator[None]:
        """Use the driver's query timeout, in whole seconds (rounded up), and restore it.

        SQL Server has no session setting that limits statement time (``LOCK_TIMEOUT`` only
        limits lock waits), and neither driver offers a cancel that is safe from another
        thread, so the driver's own client-side timeout is the tool: pyodbc's per-connection
        ``Connection.timeout`` (error HYT00), or pymssql's ``query_timeout`` (DB-Library error
        20003). Caveat: pymssql applies ``query_timeout`` to the whole process (FreeTDS
        ``dbsettime``), so concurrent units on SQL Server share the latest value.
        """
        if seconds is None:
            yield
            return
        whole = max(1, math.ceil(check_seconds(seconds)))
        holder, attribute = _timeout_setting(conn.connection.dbapi_connection)
        previous = getattr(holder, attribute)
        setattr(holder, attribute, whole)
        try:
            yield
        finally:
            with suppress(Exception):
                setattr(holder, attribute, previous)

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        number, sqlstate, message = _parts(error)
        if number == _TIMEOUT or sqlstate == _TIMEOUT_SQLSTATE:
            return ErrorKind.TIMEOUT
        if number in _TRANSIENT or sqlstate in _TRANSIENT_SQLSTATE:
            return ErrorKind.TRANSIENT
        dblib = _DBLIB_CODE.search(message)
        if dblib and int(dblib.group(1)) == _TIMEOUT:
            return ErrorKind.TIMEOUT
        if dblib and int(dblib.group(1)) in _TRANSIENT:
            return ErrorKind.TRANSIENT
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        number, _, message = _parts(error)
        text = message.split("DB-Lib error message")[0].strip() or message
        text = _ODBC_PREFIX.sub("", first_line(text))
        text = _NATIVE_CODE.sub("", text).strip()
        return f"{text} [error {number}]" if number else text

    # Creating and filling tables (seeds, loads)

    type_names = {
        "integer": "bigint",
        "decimal": "decimal",
        "float": "float",
        "boolean": "bit",
        "date": "date",
        "timestamp": "datetime2(6)",
        "timestamptz": "datetimeoffset(6)",
        "time": "time(6)",
        "text": "nvarchar(max)",
        "binary": "varbinary(max)",
        "json": "nvarchar(max)",
    }
    placeholder = "%s"  # pymssql; pyodbc's "?" in insert_sql
    current_schema_sql = "SCHEMA_NAME()"

    def insert_sql(self, table_sql: str, columns_sql: Sequence[str]) -> str:
        sql = super().insert_sql(table_sql, columns_sql)
        pyodbc = getattr(self.sa_dialect, "driver", None) == "pyodbc"
        return sql.replace("%s", "?") if pyodbc else sql


def _timeout_setting(dbapi_connection: Any) -> tuple[Any, str]:
    inner = getattr(dbapi_connection, "_conn", None)  # pymssql wraps an _mssql connection
    if inner is not None and hasattr(inner, "query_timeout"):
        return inner, "query_timeout"
    if hasattr(dbapi_connection, "timeout"):  # pyodbc
        return dbapi_connection, "timeout"
    raise NotImplementedError(
        f"cannot set a statement timeout on {type(dbapi_connection).__name__} connections"
    )


def _parts(error: BaseException) -> tuple[int | None, str | None, str]:
    """(native error number, ODBC SQLSTATE, message) from a pymssql or pyodbc error."""
    args = error.args
    number: int | None = None
    sqlstate: str | None = None
    message = str(error)
    if args and isinstance(args[0], int):  # pymssql: (number, message bytes)
        number = args[0]
        if len(args) > 1:
            raw = args[1]
            message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    elif args and isinstance(args[0], str) and len(args) > 1:  # pyodbc: (sqlstate, message)
        sqlstate = args[0]
        message = str(args[1])
        native = _NATIVE_CODE.search(message)
        number = int(native.group(1)) if native else None
    return number, sqlstate, message
