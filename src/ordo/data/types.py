"""The column types ordo creates tables with, whatever the data came from.

A seed infers them from CSV text, a load reads them off an Arrow schema, a user declares them
in ``column_types``; each dialect turns one into its own type name (``Dialect.column_type_sql``).
Kept as a small closed set so that every source maps onto the same faithful choices: exact
decimals stay exact, leading zeros stay text, zones stay zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Column", "ColumnType", "TypeKind"]


class TypeKind(StrEnum):
    """What a column holds; the dialect picks the name."""

    INTEGER = "integer"  # 64-bit
    DECIMAL = "decimal"  # exact, with ``precision`` and ``scale``
    FLOAT = "float"  # double; only from typed sources (Parquet, Arrow), never inferred from text
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"  # without a zone
    TIMESTAMPTZ = "timestamptz"  # with a zone
    TIME = "time"
    TEXT = "text"
    BINARY = "binary"
    JSON = "json"


@dataclass(frozen=True)
class ColumnType:
    """A column's type. ``declared`` is a user's own SQL type (``column_types``), used verbatim."""

    kind: TypeKind
    precision: int | None = None
    scale: int | None = None
    declared: str | None = None


@dataclass(frozen=True)
class Column:
    """A column as written in the source (a CSV header, an Arrow field); the dialect quotes it."""

    name: str
    type: ColumnType
