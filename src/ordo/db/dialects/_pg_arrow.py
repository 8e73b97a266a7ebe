"""PostgreSQL's Arrow path for loads: each batch in binary ``COPY`` where its types are
exactly the table's (``_pg_binary``); otherwise written as CSV by pyarrow (in C++) into
``COPY ... FROM STDIN``, NULL an empty field and an empty string ``""``. CSV cannot carry
bytes: a batch with a binary column that binary ``COPY`` cannot take goes through the prepared
``INSERT`` instead."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ordo.db.dialects._pg_binary import binary_schema, copy_binary

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Connection

    from ordo.db.dialects.base import Dialect

__all__ = ["load_arrow"]


def load_arrow(
    dialect: Dialect,
    conn: Connection,
    table_sql: str,
    columns_sql: Sequence[str],
    batches: Iterator[pa.RecordBatch],
) -> int:
    from pyarrow import csv as pa_csv

    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    sql = f"COPY {table_sql} ({', '.join(columns_sql)}) FROM STDIN (FORMAT csv)"
    raw: Any = conn.connection.dbapi_connection
    written = 0
    sent: dict[pa.Schema, pa.Schema | None] = {}  # asked once per schema: it is a query
    for batch in batches:
        if batch.schema not in sent:
            sent[batch.schema] = binary_schema(raw, table_sql, columns_sql, batch.schema)
        if (binary := sent[batch.schema]) is not None:
            written += copy_binary(raw, table_sql, columns_sql, binary, [batch])
            continue
        if any(_binary(field.type) for field in batch.schema):
            rows = zip(*(column.to_pylist() for column in batch.columns), strict=True)
            written += dialect.bulk_insert(conn, table_sql, columns_sql, rows)
            continue
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, write_options=options)
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(buffer.getbuffer())
        written += batch.num_rows
    return written


def _binary(type: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_binary(type) or pa.types.is_large_binary(type))
