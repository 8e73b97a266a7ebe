"""Per-backend rules, one module each, behind one small ``Dialect`` class.

``dialect_for(engine)`` picks the rules for a live engine or connection; ``dialect_for("oracle")``
gives the same rules without a server, for rendering and for tests. Dialects are found through
the ``ordo.dialects`` entry points (ordo's own six included), each class saying which backend
names it serves and which drivers' errors it knows, so a package adds a backend by adding one
module and one entry point; ``tests/unit/test_dialect_contract.py`` and
``tests/integration/test_dialect_contract.py`` then check it like the others. SQLAlchemy's own
dialects are imported only when a backend is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect as SADialect

from ordo._plugins import plugins
from ordo.db.dialects.base import Dialect, ErrorKind, StatementResult
from ordo.db.dialects.duckdb import DuckDBDialect
from ordo.db.dialects.mssql import MSSQLDialect
from ordo.db.dialects.mysql import MySQLDialect
from ordo.db.dialects.names import NamePart, TableName, parse_table_name
from ordo.db.dialects.oracle import OracleDialect
from ordo.db.dialects.postgresql import PostgreSQLDialect
from ordo.db.dialects.scripts import ScriptSyntax
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
    "ScriptSyntax",
    "StatementResult",
    "TableName",
    "dialect_for",
    "dialect_for_error",
    "dialects",
    "parse_table_name",
]

GROUP = "ordo.dialects"


@dataclass(frozen=True)
class _Registry:
    by_name: dict[str, type[Dialect]]
    by_driver: dict[str, type[Dialect]]


def dialects() -> tuple[type[Dialect], ...]:
    """Every registered dialect class, in entry-point name order."""
    return tuple(dict.fromkeys(_registry().by_name.values()))


def dialect_for(target: Engine | Connection | SADialect | str) -> Dialect:
    """The rules for an engine, a connection, a SQLAlchemy dialect, or a backend name.

    Names may carry a driver (``postgresql+psycopg2``) and may be aliases (``postgres``,
    ``sqlserver``, ``mariadb``). An unknown backend raises ``ValueError``.
    """
    registry = _registry()
    if isinstance(target, str):
        name = target.strip().lower().split("+", 1)[0]
        cls = registry.by_name.get(name)
        if cls is None:
            raise ValueError(f"ordo has no rules for the '{target}' database")
        return cls(cls.offline_sa_dialect(name))
    sa_dialect = target.dialect if isinstance(target, Engine | Connection) else target
    cls = registry.by_name.get(sa_dialect.name)
    if cls is None:
        raise ValueError(f"ordo has no rules for the '{sa_dialect.name}' database")
    return cls(sa_dialect)


def dialect_for_error(error: BaseException) -> type[Dialect] | None:
    """The dialect whose driver raised ``error`` (a DBAPI exception), if ordo knows it."""
    module = type(error).__module__.split(".", 1)[0]
    return _registry().by_driver.get(module)


@cache
def _registry() -> _Registry:
    """The entry points, loaded once; a name claimed twice goes to the later entry point."""
    by_name: dict[str, type[Dialect]] = {}
    by_driver: dict[str, type[Dialect]] = {}
    for entry_point in plugins(GROUP).values():
        cls = entry_point.load()
        if not (isinstance(cls, type) and issubclass(cls, Dialect)):
            raise TypeError(f"entry point {GROUP}:{entry_point.name} is not a Dialect class")
        by_name.update(dict.fromkeys(cls.names, cls))
        by_driver.update(dict.fromkeys(cls.driver_modules, cls))
    return _Registry(by_name, by_driver)
