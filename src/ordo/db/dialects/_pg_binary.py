"""PostgreSQL's binary ``COPY`` from Arrow, the values encoded by pgpq (in Rust).

With ``FORMAT csv`` the server parses every field's text; binary values arrive as they are
stored, and a 200,000-row seed loads in about half the server's time. pgpq is the library
that writes that format from Arrow; psycopg's own binary copy adapts one Python value at a
time, slower than the CSV it would replace.

Binary is exact only when each Arrow column is the very type of its table column: an
``int8`` sent to an ``int4`` column is a broken message, not a conversion, and a ``numeric``
keeps the scale it was sent with. So the table's own columns are asked first (a ``LIMIT 0``
query over the ``COPY``'s column list, in its order), and anything but an exact match says
no, except an integer whose column is wider, which is widened first; the caller then takes
the CSV path as before.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["binary_schema", "copy_binary", "installed"]

# Arrow type (as pyarrow names it) -> the one PostgreSQL type oid that stores it as sent
_OIDS = {
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
_INTEGER_BITS = {21: 16, 23: 32, 20: 64}  # smallint, integer, bigint


def installed() -> bool:
    """Whether pgpq is there to encode (it comes with the data extra)."""
    return importlib.util.find_spec("pgpq") is not None


def binary_schema(
    raw: Any, table_sql: str, columns_sql: Sequence[str], schema: pa.Schema
) -> pa.Schema | None:
    """The schema in which batches of ``schema`` go in binary to the columns ``columns_sql``
    of ``table_sql`` (on the psycopg connection ``raw``) and are stored exactly as their CSV
    text would be: ``schema`` itself, or with an integer widened to its column's width (an
    ``int32`` to a ``bigint`` column, as ordo creates a table from it). None when binary
    would store something else, or pgpq is not installed or does not encode a type."""
    if not installed() or len(columns_sql) != len(schema):
        return None
    with raw.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns_sql)} FROM {table_sql} LIMIT 0")
        described = cursor.description or []
    if len(described) != len(schema):
        return None
    sent = [
        _sent_as(field.type, column.type_code, column.scale)
        for field, column in zip(schema, described, strict=True)
    ]
    if any(type is None for type in sent):
        return None
    import pyarrow as pa

    widened = pa.schema([field.with_type(type) for field, type in zip(schema, sent, strict=True)])
    return widened if _encoder(widened) is not None else None


def copy_binary(
    raw: Any,
    table_sql: str,
    columns_sql: Sequence[str],
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
) -> int:
    """Copy ``batches`` into ``columns_sql`` of ``table_sql`` in one binary ``COPY``, each
    cast to ``schema`` (from ``binary_schema``) first, in the connection's transaction; the
    rows copied."""
    encoder = _encoder(schema)
    columns = ", ".join(columns_sql)
    rows = 0
    sql = f"COPY {table_sql} ({columns}) FROM STDIN (FORMAT binary)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(encoder.write_header())
        for batch in batches:
            same = batch.schema.equals(schema)
            copy.write(encoder.write_batch(batch if same else batch.cast(schema)))
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


def _sent_as(arrow: pa.DataType, oid: int, scale: int | None) -> pa.DataType | None:
    """The type in which an Arrow ``arrow`` value goes in binary to a column of type ``oid``
    (``scale``: a ``numeric``'s declared one) to be stored as the column stores the value's
    CSV text; None when there is none."""
    import pyarrow as pa

    if pa.types.is_integer(arrow) and oid in _INTEGER_BITS:  # widened: every value fits
        bits = _INTEGER_BITS[oid]
        signed = pa.types.is_signed_integer(arrow)
        if arrow.bit_width <= bits if signed else arrow.bit_width < bits:
            return pa.int16() if bits == 16 else pa.int32() if bits == 32 else pa.int64()
        return None
    if pa.types.is_decimal128(arrow):  # the scale is how the value reads back
        return arrow if oid == _NUMERIC and scale == arrow.scale else None
    if pa.types.is_timestamp(arrow) and arrow.tz is not None:
        return arrow if arrow.unit == "us" and oid == _TIMESTAMPTZ else None  # UTC, as stored
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return arrow if oid in (_TEXT, _VARCHAR) else None  # varchar's length checked as text's
    return arrow if _OIDS.get(str(arrow)) == oid else None
