"""Arrow schemas as ordo's column types, the faithful choices a created table gets.

Integers are 64-bit integers, decimals keep their precision and scale, floats stay floats
(only a typed source has them), zones stay zones, text is text, nested values (structs,
lists, maps) are JSON; the dialect names each (``Dialect.column_type_sql``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ordo.data.types import Column, ColumnType, TypeKind

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["arrow_column_type", "arrow_columns"]


def arrow_column_type(kind: pa.DataType) -> ColumnType:
    """The column type for values of the Arrow type ``kind``."""
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(kind):
        return arrow_column_type(kind.value_type)
    if t.is_decimal(kind):
        return ColumnType(TypeKind.DECIMAL, precision=kind.precision, scale=kind.scale)
    simple = (
        (t.is_boolean, TypeKind.BOOLEAN),
        (t.is_integer, TypeKind.INTEGER),
        (t.is_floating, TypeKind.FLOAT),
        (t.is_date, TypeKind.DATE),
        (t.is_time, TypeKind.TIME),
        (t.is_binary, TypeKind.BINARY),
        (t.is_large_binary, TypeKind.BINARY),
        (t.is_fixed_size_binary, TypeKind.BINARY),
        (t.is_struct, TypeKind.JSON),
        (t.is_list, TypeKind.JSON),
        (t.is_large_list, TypeKind.JSON),
        (t.is_map, TypeKind.JSON),
    )
    if t.is_timestamp(kind):
        return ColumnType(TypeKind.TIMESTAMPTZ if kind.tz else TypeKind.TIMESTAMP)
    for test, type_kind in simple:
        if test(kind):
            return ColumnType(type_kind)
    return ColumnType(TypeKind.TEXT)  # strings, and what has no column type of its own


def arrow_columns(schema: pa.Schema) -> list[Column]:
    """The schema's fields as columns, names as written."""
    return [Column(field.name, arrow_column_type(field.type)) for field in schema]
