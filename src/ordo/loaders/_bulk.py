"""Writing Arrow batches into a table, by the fastest path the backend has for them.

The dialect's own Arrow path where it has one (``Dialect.load_arrow``: DuckDB reads the
batches itself, PostgreSQL takes them by binary ``COPY``, or as CSV where the table's types
differ from the batches'); everything else goes through ``ordo.data.tables.insert_rows`` (one
prepared ``executemany``, multi-row ``INSERT`` batches on MariaDB/MySQL). Nested columns
(structs, lists, maps) arrive as JSON text either way. All of it on the step's connection,
inside the unit's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

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
    flat = map(nested_as_json, batches)
    columns_sql = [dialect.quote_part(NamePart(c.name, quoted=True)) for c in columns]
    written = dialect.load_arrow(conn, table_sql(dialect, target), columns_sql, flat)
    if written is not None:
        return written
    rows = (
        row
        for batch in flat
        for row in zip(*(column.to_pylist() for column in batch.columns), strict=True)
    )
    return insert_rows(conn, dialect, target, columns, rows)
