"""MySQL and MariaDB (PyMySQL): backslash-escaped strings, session timeouts, errno rules.

One class serves both: SQLAlchemy learns whether the server is MariaDB on the first connect,
and the two differ here only in the timeout variable and the error it raises.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.engine import Dialect as SADialect

from ordo.db.dialects._timeout import check_seconds
from ordo.db.dialects.base import (
    ColumnTypeSpec,
    Dialect,
    ErrorKind,
    catalog_query,
    first_line,
    mro_names,
)
from ordo.db.dialects.names import NamePart, TableName
from ordo.db.dialects.scripts import ScriptSyntax
from ordo.tabular import JsonText

__all__ = ["MySQLDialect"]

# lock wait timeout, deadlock, server gone away, lost connection, cannot connect, too many
# connections, NOWAIT lock failure (MySQL 8 / MariaDB), connection killed (MariaDB), lost
# connection (extended form).
_TRANSIENT = frozenset({1205, 1213, 2006, 2013, 2003, 1040, 3572, 4031, 1927, 2055})
# MariaDB max_statement_time exceeded; MySQL max_execution_time exceeded.
_TIMEOUT = frozenset({1969, 3024})

_SCHEMA = "COALESCE(:catalog_schema, DATABASE())"
_RELATIONS = f"""
SELECT TABLE_NAME AS name, TABLE_SCHEMA AS schema_name, TABLE_TYPE = 'VIEW' AS is_view
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = {_SCHEMA} AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')
ORDER BY TABLE_NAME
"""
_FOREIGN_KEYS = f"""
SELECT CONSTRAINT_SCHEMA, TABLE_NAME, 0, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME, 0,
       CONSTRAINT_NAME
FROM information_schema.REFERENTIAL_CONSTRAINTS
WHERE UNIQUE_CONSTRAINT_SCHEMA = {_SCHEMA}
"""


class MySQLDialect(Dialect):
    backend = "mysql"
    names = ("mysql", "mariadb")
    driver_modules = ("pymysql", "MySQLdb")
    transactional_ddl = False  # every DDL statement commits implicitly
    ddl_commits_implicitly = True
    # MySQL's "statements that cause an implicit commit", by their first word
    implicit_commit_words = Dialect.implicit_commit_words | {
        "LOCK", "UNLOCK", "ANALYZE", "CHECK", "OPTIMIZE", "REPAIR", "FLUSH",
        "RESET", "CACHE", "INSTALL", "UNINSTALL",
    }  # fmt: skip
    migration_lock = "get_lock"
    connect_timeout_arg = "connect_timeout"
    read_only_sql = "SET SESSION TRANSACTION READ ONLY"
    script_syntax = ScriptSyntax(backslash_escapes=True, routine_blocks=True)

    @classmethod
    def offline_sa_dialect(cls, name: str) -> SADialect:
        # deferred: only the backend in use
        from sqlalchemy.dialects.mysql.base import MySQLDialect as SAMySQL

        return SAMySQL(is_mariadb=name == "mariadb")

    @property
    def name(self) -> str:
        is_mariadb = getattr(self.sa_dialect, "is_mariadb", False)
        return "mariadb" if is_mariadb or self.sa_dialect.name == "mariadb" else "mysql"

    def commits_implicitly(self, statement: str) -> bool:
        """``CREATE TEMPORARY TABLE`` and ``DROP TEMPORARY TABLE`` are the DDL that does not."""
        words = statement[:200].split(None, 2)
        if len(words) > 1 and words[1].upper() == "TEMPORARY":
            return False
        return super().commits_implicitly(statement)

    # The catalog: tables, views and what depends on what
    # (information_schema has no VIEW_TABLE_USAGE on MariaDB: views read unknown tables)

    def catalog_relations_query(self, schema: str | None) -> TextClause:
        return catalog_query(_RELATIONS, schema)

    def catalog_dependencies_query(self, schema: str | None) -> TextClause:
        return catalog_query(_FOREIGN_KEYS, schema)

    def drop_foreign_key_sql(self, table: TableName, constraint: str | None) -> str:
        name = self.quote_part(NamePart(constraint or "", quoted=True))
        return f"ALTER TABLE {self.quote_table(table)} DROP FOREIGN KEY {name}"

    def quote_string(self, value: str) -> str:
        """Double quotes, and double backslashes unless the server runs NO_BACKSLASH_ESCAPES.

        MySQL reads ``\\`` as an escape inside string literals by default, so ``'a\\'`` would
        swallow its own closing quote. SQLAlchemy reads ``sql_mode`` on the first connect; a
        dialect made from a name alone assumes the default mode.
        """
        if getattr(self.sa_dialect, "_backslash_escapes", True):
            value = value.replace("\\", "\\\\")
        return "'" + value.replace("'", "''") + "'"

    def quote_datetime(self, value: dt.datetime) -> str:
        if value.tzinfo is not None:
            raise ValueError(
                "MySQL/MariaDB DATETIME has no time zone; convert to a naive datetime first"
            )
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"

    @contextmanager
    def statement_timeout(self, conn: Connection, seconds: float | None) -> Iterator[None]:
        """MariaDB ``max_statement_time`` (seconds, fractional) or MySQL ``max_execution_time``.

        Both are session settings, so the previous value is always put back. MySQL's limit
        applies to read-only ``SELECT`` statements only; that is MySQL's rule, and a long
        ``UPDATE`` on MySQL is not cancelled. MariaDB's applies to every statement.
        """
        if seconds is None:
            yield
            return
        seconds = check_seconds(seconds)
        if getattr(conn.dialect, "is_mariadb", False):
            variable, value = "max_statement_time", seconds
        else:
            variable, value = "max_execution_time", max(1, math.ceil(seconds * 1000))
        # The variable name is one of two constants above; only the value is a parameter.
        previous = conn.execute(text(f"SELECT @@SESSION.{variable}")).scalar()
        setter = text(f"SET SESSION {variable} = :value")
        conn.execute(setter, {"value": value})
        try:
            yield
        except BaseException:
            with suppress(Exception):
                conn.execute(setter, {"value": previous})
            raise
        conn.execute(setter, {"value": previous})

    def output_converters(self, description: Sequence[Any]) -> dict[int, Callable[[Any], Any]]:
        """``TIME`` comes as a ``timedelta`` (it may pass 24 hours): shown as MySQL writes it,
        ``12:34:56``; MySQL's ``JSON`` is JSON (MariaDB's is plain ``LONGTEXT`` to a client)."""
        converters: dict[int, Callable[[Any], Any]] = {}
        for i, column in enumerate(description):
            if column[1] == _TIME:
                converters[i] = _time_text
            elif column[1] == _JSON:
                converters[i] = JsonText.of
        return converters

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        code = _errno(error)
        if code in _TIMEOUT:
            return ErrorKind.TIMEOUT
        if code in _TRANSIENT:
            return ErrorKind.TRANSIENT
        if code in (None, 0) and "InterfaceError" in mro_names(error):
            return ErrorKind.TRANSIENT  # PyMySQL's "(0, '')": the connection is already closed
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        code = _errno(error)
        args: tuple[Any, ...] = error.args
        message = str(args[1]) if len(args) > 1 else str(error)
        message = first_line(message) if message.strip() else "connection is closed"
        return f"{message} [error {code}]" if code else message

    # Creating and filling tables (seeds, loads)

    type_names = {
        "integer": "bigint",
        "decimal": "decimal",
        "float": "double",
        "boolean": "tinyint(1)",
        "date": "date",
        "timestamp": "datetime(6)",
        "timestamptz": "datetime(6)",  # no zoned type: values are stored in UTC
        "time": "time(6)",
        "text": "longtext",  # TEXT stops at 64 KB
        "binary": "longblob",
        "json": "json",
    }
    type_aliases = {"BOOLEAN": "TINYINT(1)", "BOOL": "TINYINT(1)"}
    placeholder = "%s"  # PyMySQL's executemany rewrites INSERT ... VALUES into multi-row ones
    catalog_type_column = "column_type"
    current_schema_sql = "DATABASE()"

    def normal_type(self, sql: str) -> str:
        """As everywhere, without the display width MariaDB adds (``bigint(20)``); the
        ``tinyint(1)`` of a boolean keeps it."""
        return _DISPLAY_WIDTH.sub(r"\1", super().normal_type(sql))

    def bind_converter(self, type: ColumnTypeSpec) -> Callable[[Any], Any] | None:
        """A zoned timestamp goes in as its UTC time: ``DATETIME`` has no zone."""
        return _utc_naive if type.kind == "timestamptz" and not type.declared else None

    def drop_existing_table(self, conn: Connection, table_sql: str, *, cascade: bool) -> None:
        """``CASCADE`` does nothing here: with ``cascade`` the foreign keys pointing at the
        table are not checked for the drop, and stay, pointing at the table made again (the
        server does not track views; they read the new table)."""
        if not cascade:
            super().drop_existing_table(conn, table_sql, cascade=False)
            return
        self.execute(conn, "SET SESSION foreign_key_checks = 0", fetch=False)
        try:
            super().drop_existing_table(conn, table_sql, cascade=False)
        finally:
            self.execute(conn, "SET SESSION foreign_key_checks = 1", fetch=False)

    temporary_table = "TEMPORARY"

    def key_column_type(self, type_sql: str) -> str:
        """A text key needs a length to be indexed."""
        return "VARCHAR(255)" if type_sql.upper() in ("TEXT", "LONGTEXT") else type_sql

    def upsert_sql(
        self, insert_select: str, names_sql: Sequence[str], key_sql: Sequence[str]
    ) -> str:
        """``ON DUPLICATE KEY UPDATE c = VALUES(c)``."""
        others = [name for name in names_sql if name not in key_sql]
        if not others:  # every column is the key: a duplicate has nothing to update
            return f"{insert_select} ON DUPLICATE KEY UPDATE {key_sql[0]} = {key_sql[0]}"
        sets = ", ".join(f"{name} = VALUES({name})" for name in others)
        return f"{insert_select} ON DUPLICATE KEY UPDATE {sets}"

    # Not LOAD DATA LOCAL INFILE, although it is faster: it needs the client flag
    # local_infile, with which a server (or anyone in the middle) can read any file the
    # client can; the multi-row INSERTs of bulk_insert need nothing of the kind.


_TIME, _JSON = 11, 245  # pymysql.constants.FIELD_TYPE
_DISPLAY_WIDTH = re.compile(r"\b((?:SMALL|MEDIUM|BIG)?INT)\(\d+\)")


def _utc_naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _time_text(value: Any) -> Any:
    if not isinstance(value, dt.timedelta):
        return value
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    minutes, seconds = divmod(value.seconds, 60)
    hours = value.days * 24 + minutes // 60
    fraction = f".{value.microseconds:06d}" if value.microseconds else ""
    return f"{sign}{hours:02d}:{minutes % 60:02d}:{seconds:02d}{fraction}"


def _errno(error: BaseException) -> int | None:
    args: tuple[Any, ...] = error.args
    return args[0] if args and isinstance(args[0], int) else None
