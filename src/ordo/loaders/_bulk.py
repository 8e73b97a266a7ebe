"""Writing Arrow batches into a table, by the fastest path the backend has for them.

- DuckDB reads the batches itself: the stream is registered as one view (an Arrow
  ``RecordBatchReader``) and one ``INSERT ... SELECT`` pulls it through, so no Python value
  is made per row and DuckDB holds a batch at a time;
- PostgreSQL gets the batch as CSV written by pyarrow into ``COPY ... FROM STDIN`` (NULL an
  empty field, an empty string ``""``), unless a column is binary (CSV cannot carry it);
- everything else, and that case, goes through ``ordo.data.tables.insert_rows`` (one
  prepared ``executemany``, multi-row ``INSERT`` batches on MariaDB/MySQL).

All of it on the step's connection, inside the unit's transaction.
"""

from __future__ import annotations

import contextlib
import io
import secrets
from collections.abc import Iterator, Sequence
from itertools import chain
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
        return _duckdb(conn, dialect, target, columns, batches)
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
    batches: Iterator[pa.RecordBatch],
) -> int:
    import pyarrow as pa

    first = next(batches, None)
    if first is None:
        return 0
    counted = _Pulled(chain([first], batches))
    reader = pa.RecordBatchReader.from_batches(nested_as_json(first).schema, iter(counted))
    duck: Any = conn.connection.driver_connection
    view = f"ordo_batches_{secrets.token_hex(4)}"
    names = _columns_sql(dialect, columns)
    duck.register(view, reader)
    try:
        duck.execute(
            f"INSERT INTO {table_sql(dialect, target)} ({names}) SELECT {names} FROM {view}"
        )
    except Exception:
        with contextlib.suppress(Exception):  # the transaction is aborted: this may fail too
            duck.unregister(view)
        if counted.error is not None:  # the source failed while DuckDB read it: that error
            raise counted.error from None
        raise
    duck.unregister(view)
    return counted.rows


class _Pulled:
    """The batches as DuckDB pulls them: counted, and the source's own error kept (DuckDB
    would hand it back as its own, losing what kind of failure it was)."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self.rows = 0
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                self.rows += batch.num_rows
                yield nested_as_json(batch)
        except Exception as exc:
            self.error = exc
            raise


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
