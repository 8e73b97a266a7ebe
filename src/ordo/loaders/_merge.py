"""The SQL of a merge (upsert): a staging table, a keyed target, one ``INSERT ... SELECT``.

The upsert's spelling is one of two: ``ON CONFLICT (key) DO UPDATE SET c = excluded.c``
(PostgreSQL, SQLite, DuckDB) or ``ON DUPLICATE KEY UPDATE c = VALUES(c)`` (MySQL, MariaDB).
It lives here rather than in the dialects, as the one place that tells them apart by name,
until a second user of upserts makes it worth a dialect method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ordo.data.tables import Target, table_sql
from ordo.db.dialects import NamePart

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo.data.types import Column
    from ordo.db.dialects import Dialect

__all__ = ["create_with_key", "merge_sql", "staging_sql"]

_DUPLICATE_KEY = frozenset({"mysql", "mariadb"})


def _name(dialect: Dialect, column: str) -> str:
    return dialect.quote_part(NamePart(column, quoted=True))


def _definitions(dialect: Dialect, columns: Sequence[Column], key: Sequence[str] = ()) -> str:
    parts = [f"{_name(dialect, c.name)} {_key_type(dialect, c, key)}" for c in columns]
    if key:
        parts.append(f"PRIMARY KEY ({', '.join(_name(dialect, k) for k in key)})")
    return ", ".join(parts)


def _key_type(dialect: Dialect, column: Column, key: Sequence[str]) -> str:
    """The column's type; a MySQL text key needs a length to be indexed (VARCHAR(255))."""
    sql = dialect.column_type_sql(column.type)
    if (
        column.name in key
        and dialect.name in _DUPLICATE_KEY
        and sql.upper() in ("TEXT", "LONGTEXT")
    ):
        return "VARCHAR(255)"
    return sql


def create_with_key(
    conn: Connection,
    dialect: Dialect,
    target: Target,
    columns: Sequence[Column],
    key: Sequence[str],
) -> None:
    """Create ``target`` with ``columns``, ``key`` its primary key."""
    sql = f"CREATE TABLE {table_sql(dialect, target)} ({_definitions(dialect, columns, key)})"
    dialect.execute(conn, sql, fetch=False)


def staging_sql(dialect: Dialect, stage: Target, columns: Sequence[Column]) -> str:
    """A temporary table of ``columns``, seen by this session only."""
    temporary = "TEMPORARY" if dialect.name in _DUPLICATE_KEY else "TEMP"
    return (
        f"CREATE {temporary} TABLE {table_sql(dialect, stage)} ({_definitions(dialect, columns)})"
    )


def merge_sql(
    dialect: Dialect, target: Target, stage: Target, names: Sequence[str], key: Sequence[str]
) -> str:
    """Insert the staged rows into ``target``, updating those whose ``key`` is there."""
    listed = ", ".join(_name(dialect, n) for n in names)
    head = (
        f"INSERT INTO {table_sql(dialect, target)} ({listed}) "
        f"SELECT {listed} FROM {table_sql(dialect, stage)}"
    )
    others = [n for n in names if n not in key]
    if dialect.name in _DUPLICATE_KEY:
        if not others:  # every column is the key: a duplicate has nothing to update
            first = _name(dialect, key[0])
            return f"{head} ON DUPLICATE KEY UPDATE {first} = {first}"
        sets = ", ".join(f"{_name(dialect, n)} = VALUES({_name(dialect, n)})" for n in others)
        return f"{head} ON DUPLICATE KEY UPDATE {sets}"
    conflict = ", ".join(_name(dialect, k) for k in key)
    # ``WHERE true``: SQLite would read ``ON CONFLICT`` after a bare ``FROM t`` as a join's ON
    if not others:
        return f"{head} WHERE true ON CONFLICT ({conflict}) DO NOTHING"
    sets = ", ".join(f"{_name(dialect, n)} = excluded.{_name(dialect, n)}" for n in others)
    return f"{head} WHERE true ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
