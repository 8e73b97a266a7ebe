"""PostgreSQL's binary ``COPY`` from Arrow, the values encoded by pgpq (in Rust).

With ``FORMAT csv`` the server parses every field's text; binary values arrive as they are
stored, and a 200,000-row seed loads in about half the server's time. pgpq is the library
that writes that format from Arrow; psycopg's own binary copy adapts one Python value at a
time, slower than the CSV it would replace.

Binary is exact only when each Arrow column is the very type of its table column: an
``int8`` sent to an ``int4`` column is a broken message, not a conversion, and a ``numeric``
keeps the scale it was sent with. So the table's own columns are asked first (a ``LIMIT 0``
query over the ``COPY``'s column list, in its order) and anything but an exact match says no;
the caller then takes the CSV path as before.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["binary_fits", "copy_binary", "installed"]

# Arrow type (as pyarrow names it) -> the one PostgreSQL type oid that stores it as sent
_OIDS = {
    "int16": 21,
    "int32": 23,
    "int64": 20,
    "float": 700,
    "double": 701,
    "bool": 16,
    "date32[day]": 1082,
    "timestamp[us]": 1114,
    "string": 25,
    "large_string": 25,
    "binary": 17,
    "large_binary": 17,
}
_NUMERIC, _TIMESTAMPTZ, _TEXT, _VARCHAR = 1700, 1184, 25, 1043


def installed() -> bool:
    """Whether pgpq is there to encode (it comes with the data extra)."""
    return importlib.util.find_spec("pgpq") is not None


def binary_fits(raw: Any, table_sql: str, columns_sql: Sequence[str], schema: pa.Schema) -> bool:
    """Whether batches of ``schema`` sent in binary to the columns ``columns_sql`` of
    ``table_sql`` (on the psycopg connection ``raw``) are stored exactly as their CSV text
    would be; False too when pgpq is not installed or does not encode one of the types."""
    if _encoder(schema) is None or len(columns_sql) != len(schema):
        return False
    with raw.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns_sql)} FROM {table_sql} LIMIT 0")
        described = cursor.description or []
    return len(described) == len(schema) and all(
        _stores(field.type, column.type_code, column.scale)
        for field, column in zip(schema, described, strict=True)
    )


def copy_binary(
    raw: Any,
    table_sql: str,
    columns_sql: Sequence[str],
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
) -> int:
    """Copy ``batches`` (of ``schema``, which ``binary_fits``) into ``columns_sql`` of
    ``table_sql`` in one binary ``COPY``, in the connection's transaction; the rows copied."""
    encoder = _encoder(schema)
    columns = ", ".join(columns_sql)
    rows = 0
    sql = f"COPY {table_sql} ({columns}) FROM STDIN (FORMAT binary)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(encoder.write_header())
        for batch in batches:
            copy.write(encoder.write_batch(batch))
            rows += batch.num_rows
        copy.write(encoder.finish())
    return rows


def _encoder(schema: pa.Schema) -> Any:
    try:
        from pgpq import ArrowToPostgresBinaryEncoder
    except ImportError:
        return None
    try:
        return ArrowToPostgresBinaryEncoder(schema)
    except (TypeError, ValueError):  # a type pgpq does not encode
        return None


def _stores(arrow: pa.DataType, oid: int, scale: int | None) -> bool:
    """Whether a column of type ``oid`` (``scale``: a ``numeric``'s declared one) stores an
    Arrow ``arrow`` value sent in binary as it stores the value's CSV text."""
    import pyarrow as pa

    if pa.types.is_decimal128(arrow):  # the scale is how the value reads back
        return oid == _NUMERIC and scale == arrow.scale
    if pa.types.is_timestamp(arrow) and arrow.tz is not None:
        return arrow.unit == "us" and oid == _TIMESTAMPTZ  # UTC microseconds, as stored
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return oid in (_TEXT, _VARCHAR)  # a varchar's length is checked as for text
    return _OIDS.get(str(arrow)) == oid
