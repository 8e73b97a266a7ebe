"""Per-backend rules, one module each, behind one small ``Dialect`` class.

``dialect_for(engine)`` picks the rules for a live engine or connection; ``dialect_for("oracle")``
gives the same rules without a server, for rendering and for tests. The SQLAlchemy dialects
are imported only when a backend is asked for, so importing ordo stays fast.
"""

from __future__ import annotations

from sqlalchemy import URL, Connection, Engine
from sqlalchemy.engine import Dialect as SADialect

from ordo.db.dialects.base import (
    Dialect,
    ErrorKind,
    NamePart,
    StatementResult,
    TableName,
    parse_table_name,
)
from ordo.db.dialects.duckdb import DuckDBDialect
from ordo.db.dialects.mssql import MSSQLDialect
from ordo.db.dialects.mysql import MySQLDialect
from ordo.db.dialects.oracle import OracleDialect
from ordo.db.dialects.postgresql import PostgreSQLDialect
from ordo.db.dialects.sqlite import SQLiteDialect

__all__ = [
    "Dialect",
    "DuckDBDialect",
    "ErrorKind",
    "MSSQLDialect",
    "MySQLDialect",
    "NamePart",
    "OracleDialect",
    "PostgreSQLDialect",
    "SQLiteDialect",
    "StatementResult",
    "TableName",
    "dialect_for",
    "dialect_for_error",
    "parse_table_name",
]

# SQLAlchemy dialect name -> ordo dialect.
_BY_NAME: dict[str, type[Dialect]] = {
    "postgresql": PostgreSQLDialect,
    "mysql": MySQLDialect,
    "mariadb": MySQLDialect,
    "sqlite": SQLiteDialect,
    "duckdb": DuckDBDialect,
    "oracle": OracleDialect,
    "mssql": MSSQLDialect,
}
_ALIASES = {"postgres": "postgresql", "sqlserver": "mssql"}

# Top-level module of a driver's exception classes -> the dialect that knows its errors.
_BY_DRIVER: dict[str, type[Dialect]] = {
    "psycopg": PostgreSQLDialect,
    "psycopg2": PostgreSQLDialect,
    "pymysql": MySQLDialect,
    "MySQLdb": MySQLDialect,
    "sqlite3": SQLiteDialect,
    "_sqlite3": SQLiteDialect,
    "duckdb": DuckDBDialect,
    "_duckdb": DuckDBDialect,
    "oracledb": OracleDialect,
    "cx_Oracle": OracleDialect,
    "pymssql": MSSQLDialect,
    "_mssql": MSSQLDialect,
    "pyodbc": MSSQLDialect,
}


def dialect_for(target: Engine | Connection | SADialect | str) -> Dialect:
    """The rules for an engine, a connection, a SQLAlchemy dialect, or a backend name.

    Names may carry a driver (``postgresql+psycopg2``) and may be aliases (``postgres``,
    ``sqlserver``, ``mariadb``). An unknown backend raises ``ValueError``.
    """
    if isinstance(target, str):
        sa_dialect = _sa_dialect(target)
    elif isinstance(target, Engine | Connection):
        sa_dialect = target.dialect
    else:
        sa_dialect = target
    cls = _BY_NAME.get(sa_dialect.name)
    if cls is None:
        raise ValueError(f"ordo has no rules for the '{sa_dialect.name}' database")
    return cls(sa_dialect)


def dialect_for_error(error: BaseException) -> type[Dialect] | None:
    """The dialect whose driver raised ``error`` (a DBAPI exception), if ordo knows it."""
    module = type(error).__module__.split(".", 1)[0]
    return _BY_DRIVER.get(module)


def _sa_dialect(name: str) -> SADialect:
    backend = name.strip().lower().split("+", 1)[0]
    backend = _ALIASES.get(backend, backend)
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql.base import PGDialect

        return PGDialect()  # type: ignore[no-untyped-call]
    if backend in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql.base import MySQLDialect as SAMySQL

        return SAMySQL(is_mariadb=backend == "mariadb")
    if backend == "sqlite":
        from sqlalchemy.dialects.sqlite.base import SQLiteDialect as SASQLite

        return SASQLite()
    if backend == "oracle":
        from sqlalchemy.dialects.oracle.base import OracleDialect as SAOracle

        return SAOracle()
    if backend == "mssql":
        from sqlalchemy.dialects.mssql.base import MSDialect

        return MSDialect()  # type: ignore[no-untyped-call]
    if backend == "duckdb":
        from ordo.config.url import require_driver

        require_driver(URL.create("duckdb"))
        import duckdb_engine

        sa_duckdb: SADialect = duckdb_engine.Dialect()
        return sa_duckdb
    raise ValueError(f"ordo has no rules for the '{name}' database")
