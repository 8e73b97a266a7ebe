"""Writing Arrow batches into a table, by the fastest path the backend has for them.

- DuckDB reads the batch itself (it is registered as a view and inserted with one
  ``INSERT ... SELECT``): no Python value is made per row;
- PostgreSQL gets the batch as CSV written by pyarrow into ``COPY ... FROM STDIN`` (NULL an
  empty field, an empty string ``""``), unless a column is binary (CSV cannot carry it);
- everything else, and that case, goes through ``ordo.data.tables.insert_rows`` (one
  prepared ``executemany``, multi-row ``INSERT`` batches on MariaDB/MySQL).

All of it on the step's connection, inside the unit's transaction.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ordo.data.tables import Target, insert_rows, table_sql
from ordo.data.types import Column
from ordo.db.dialects import NamePart
from ordo.loaders._json import nested_as_json

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Connection

    from ordo.db.dialects import Dialect

__all__ = ["write_batches"]


def write_batches(
    conn: Connection,
    dialect: Dialect,
    target: Target,
    columns: Sequence[Column],
    batches: Iterator[pa.RecordBatch],
) -> int:
    """Insert every batch into ``target`` (whose columns are ``columns``); the rows written."""
    if dialect.name == "duckdb":
        return sum(_duckdb(conn, dialect, target, columns, b) for b in batches)
    if dialect.name == "postgresql":
        return sum(_postgres(conn, dialect, target, columns, b) for b in batches)
    rows = (
        row
        for batch in batches
        for row in zip(*(c.to_pylist() for c in nested_as_json(batch).columns), strict=True)
    )
    return insert_rows(conn, dialect, target, columns, rows)


def _columns_sql(dialect: Dialect, columns: Sequence[Column]) -> str:
    return ", ".join(dialect.quote_part(NamePart(c.name, quoted=True)) for c in columns)


def _duckdb(
    conn: Connection,
    dialect: Dialect,
    target: Target,
    columns: Sequence[Column],
    batch: pa.RecordBatch,
) -> int:
    duck: Any = conn.connection.driver_connection
    view = f"ordo_batch_{secrets.token_hex(4)}"
    duck.register(view, nested_as_json(batch))
    try:
        names = _columns_sql(dialect, columns)
        duck.execute(
            f"INSERT INTO {table_sql(dialect, target)} ({names}) SELECT {names} FROM {view}"
        )
    finally:
        duck.unregister(view)
    return int(batch.num_rows)


def _postgres(
    conn: Connection,
    dialect: Dialect,
    target: Target,
    columns: Sequence[Column],
    batch: pa.RecordBatch,
) -> int:
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    if any(pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) for f in batch.schema):
        rows = zip(*(c.to_pylist() for c in batch.columns), strict=True)
        return insert_rows(conn, dialect, target, columns, rows)
    buffer = io.BytesIO()
    pa_csv.write_csv(
        nested_as_json(batch),
        buffer,
        write_options=pa_csv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    raw: Any = conn.connection.dbapi_connection
    sql = (
        f"COPY {table_sql(dialect, target)} ({_columns_sql(dialect, columns)}) "
        "FROM STDIN (FORMAT csv)"
    )
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(buffer.getbuffer())
    return int(batch.num_rows)
