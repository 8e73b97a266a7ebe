"""The SQL of a merge (upsert): a staging table, a keyed target, one ``INSERT ... SELECT``.

How the upsert is spelt (``ON CONFLICT``, ``ON DUPLICATE KEY UPDATE``), what a temporary
table is called and what type a text key needs are the dialect's (``Dialect.upsert_sql``,
``temporary_table``, ``key_column_type``); here they are put together.
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


def _name(dialect: Dialect, column: str) -> str:
    return dialect.quote_part(NamePart(column, quoted=True))


def _definitions(dialect: Dialect, columns: Sequence[Column], key: Sequence[str] = ()) -> str:
    parts = [f"{_name(dialect, c.name)} {_key_type(dialect, c, key)}" for c in columns]
    if key:
        parts.append(f"PRIMARY KEY ({', '.join(_name(dialect, k) for k in key)})")
    return ", ".join(parts)


def _key_type(dialect: Dialect, column: Column, key: Sequence[str]) -> str:
    sql = dialect.column_type_sql(column.type)
    return dialect.key_column_type(sql) if column.name in key else sql


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
    return (
        f"CREATE {dialect.temporary_table} TABLE {table_sql(dialect, stage)} "
        f"({_definitions(dialect, columns)})"
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
    key_sql = [_name(dialect, k) for k in key]
    return dialect.upsert_sql(head, [_name(dialect, n) for n in names], key_sql)
