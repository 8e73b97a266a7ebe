"""SQLite (the stdlib sqlite3): no date or boolean types, interrupt() for timeouts.

SQLite folds nothing but matches names case-insensitively, so quoting a name as written finds
the table whatever case it was created in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from ordo.db.dialects.base import Dialect, ErrorKind, first_line

__all__ = ["SQLiteDialect"]

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_INTERRUPT = 9


class SQLiteDialect(Dialect):
    backend = "sqlite"
    transactional_ddl = True  # given the BEGIN handling in ordo.db.engines

    def write_probe(self, conn: Connection) -> Callable[[], bool] | None:
        """Rows changed (``total_changes``) or the schema changed (``schema_version``)."""
        raw = conn.connection.dbapi_connection

        def state() -> tuple[int, int]:
            version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
            return int(getattr(raw, "total_changes", 0)), int(version or 0)

        before = state()
        return lambda: state() != before

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
