"""DuckDB (duckdb-engine): interrupt() for timeouts, and telling results from status rows.

DuckDB matches names case-insensitively even when quoted, so names are quoted as written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import URL, Connection

from ordo.db.dialects.base import Dialect, ErrorKind, StatementResult, mro_names

__all__ = ["DuckDBDialect"]

# Statement types whose result is a status row ("Count", "Success"), not data.
_STATUS_ONLY = frozenset(
    {
        "CREATE",
        "DROP",
        "ALTER",
        "TRANSACTION",
        "SET",
        "VARIABLE_SET",
        "LOAD",
        "ATTACH",
        "DETACH",
        "CREATE_FUNC",
        "EXTENSION",
        "VACUUM",
        "ANALYZE",
        "EXPORT",
        "COPY",
        "COPY_DATABASE",
        "PREPARE",
    }
)
_DML = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE_INTO"})


class DuckDBDialect(Dialect):
    backend = "duckdb"
    transactional_ddl = True

    def locks_out_other_processes(self, url: URL) -> bool:
        """A DuckDB file opened by one process cannot be opened by another, even to read.

        In-memory databases (which closing would lose) and remote ones (``md:``) are not files.
        """
        database = url.database or ":memory:"
        return not database.startswith(":memory:") and ":" not in database.split("/", 1)[0]

    def quote_datetime(self, value: dt.datetime) -> str:
        if value.tzinfo is not None:
            return f"TIMESTAMPTZ '{value.isoformat(sep=' ')}'"
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"

    def execute(self, conn: Connection, sql: str, *, fetch: bool = True) -> StatementResult:
        """As ``Dialect.execute``, except that DuckDB's status rows are not reported as rows.

        DuckDB answers every statement with a result set: ``INSERT`` returns ``Count``,
        ``CREATE`` returns ``Success`` or an empty ``Count``. The parser's statement type
        says which results are data; DML counts as data only with ``RETURNING`` (then DuckDB
        reports rowcount -1).
        """
        result = conn.exec_driver_sql(sql, execution_options={"no_parameters": True})
        kind = _last_statement_type(sql)
        returns_rows = result.returns_rows
        if kind in _STATUS_ONLY or (kind in _DML and result.rowcount >= 0):
            returns_rows = False
        return self._result(result, fetch=fetch, returns_rows=returns_rows)

    def cancel(self, dbapi_connection: Any) -> None:
        # duckdb-engine's wrapper forwards to DuckDBPyConnection.interrupt(), thread-safe.
        dbapi_connection.interrupt()

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        names = mro_names(error)
        message = str(error).lower()
        if "InterruptException" in names:
            return ErrorKind.TIMEOUT
        if "TransactionException" in names and "conflict" in message:
            return ErrorKind.TRANSIENT  # write-write conflict between transactions
        if "ConnectionException" in names:
            return ErrorKind.TRANSIENT
        if "IOException" in names and "lock" in message:
            return ErrorKind.TRANSIENT  # another process holds the database file
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        """The message up to the blank line before DuckDB's ``LINE n:`` pointer, on one line."""
        kept: list[str] = []
        for line in str(error).strip().splitlines():
            if not line.strip() or line.startswith("LINE "):
                break
            kept.append(line.strip())
        return " ".join(kept) or str(error).strip()


def _last_statement_type(sql: str) -> str | None:
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return None  # executing it already raised or will raise the real error
    return statements[-1].type.name if statements else None
