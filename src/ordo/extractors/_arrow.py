"""Arrow for sources that hand over Python values (JSON, HTTP, Excel, a driver's rows).

``arrow_type`` reads the type names users write in ``column_types`` (``int``, ``decimal(12,2)``,
``timestamptz``...). ``Batcher`` turns chunks of rows into record batches that all share one
schema, as a load needs: the schema is taken from ``column_types`` and the first chunk, with
the few widenings that keep later chunks fitting (an all-NULL column is text, a decimal gets
the widest precision at its scale, a column of mixed kinds is text, so ``00123`` stays text).
A later value that does not fit says which column, so the user can declare its type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator

from ordo.errors import PermanentError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["TYPE_NAMES", "Batcher", "ColumnTypes", "arrow_type"]

TYPE_NAMES = (
    "string",
    "text",
    "int",
    "integer",
    "bigint",
    "float",
    "double",
    "bool",
    "boolean",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "binary",
    "json",
    "decimal(P,S)",
)
_SIMPLE = frozenset(TYPE_NAMES[:-1])  # all but decimal(P,S)
_DECIMAL = re.compile(r"(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", re.I)


def arrow_type(name: str) -> pa.DataType:
    """The Arrow type a ``column_types`` name stands for; ``ValueError`` for an unknown one."""
    import pyarrow as pa

    key, decimal = _parsed(name)
    if decimal is not None:
        return pa.decimal128(*decimal)
    simple: dict[str, pa.DataType] = {
        "string": pa.string(),
        "text": pa.string(),
        "json": pa.string(),
        "int": pa.int64(),
        "integer": pa.int64(),
        "bigint": pa.int64(),
        "float": pa.float64(),
        "double": pa.float64(),
        "bool": pa.bool_(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "binary": pa.binary(),
    }
    return simple[key]


def _parsed(name: str) -> tuple[str, tuple[int, int] | None]:
    """``name`` folded, and a decimal's precision and scale; ``ValueError`` for an unknown
    name. Without pyarrow, so that reading a manifest does not import it."""
    key = name.strip().lower()
    if key in _SIMPLE:
        return key, None
    match = _DECIMAL.fullmatch(key)
    if match:
        precision, scale = int(match[1]), int(match[2])
        if not 1 <= precision <= 38 or scale > precision:
            raise ValueError(
                f"decimal({precision},{scale}) needs 1 <= precision <= 38, scale <= it"
            )
        return key, (precision, scale)
    raise ValueError(f"unknown column type '{name}' (one of: {', '.join(TYPE_NAMES)})")


def check_type_names(types: Mapping[str, str]) -> dict[str, str]:
    """A pydantic validator body: every name known (raises ``ValueError`` naming the column)."""
    for column, name in types.items():
        try:
            _parsed(name)
        except ValueError as exc:
            raise ValueError(f"column '{column}': {exc}") from None
    return dict(types)


ColumnTypes = Annotated[dict[str, str], AfterValidator(check_type_names)]
"""A config's ``column_types``: column name to a type name ``arrow_type`` knows."""


class Batcher:
    """Chunks of rows (column-wise) to record batches with one schema, fixed by the first."""

    def __init__(
        self,
        column_types: Mapping[str, str] | None = None,
        *,
        what: str,
        scales: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        self._declared = {k: arrow_type(v) for k, v in (column_types or {}).items()}
        self._what = what  # "orders.json", "GET https://...": where a bad value came from
        # (precision, scale) of decimal columns where the source knows them (a driver's
        # cursor description); others get the widest precision at the scale first seen
        self._scales = dict(scales or {})
        self.schema: pa.Schema | None = None

    def from_records(self, records: Sequence[Mapping[str, Any]]) -> pa.RecordBatch:
        """A batch of JSON-like records (keys are columns; a missing key is NULL)."""
        if self.schema is not None:
            names = list(self.schema.names)
        else:
            names = list(dict.fromkeys(key for record in records for key in record))
        columns = [[record.get(name) for record in records] for name in names]
        return self.from_columns(names, columns)

    def from_columns(self, names: Sequence[str], columns: Sequence[list[Any]]) -> pa.RecordBatch:
        import pyarrow as pa

        if self.schema is None:
            arrays = [
                self._first(name, values) for name, values in zip(names, columns, strict=True)
            ]
            self.schema = pa.schema(
                [pa.field(n, a.type) for n, a in zip(names, arrays, strict=True)]
            )
            return pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        arrays = []
        for field, values in zip(self.schema, columns, strict=True):
            arrays.append(self._fit(field, values))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _first(self, name: str, values: list[Any]) -> pa.Array:
        import pyarrow as pa

        declared = self._declared.get(name)
        if declared is not None:
            return self._fit(pa.field(name, declared), values)
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return pa.array(_as_text(values), pa.string())  # mixed kinds: text, as written
        kind = array.type
        if pa.types.is_null(kind):
            return array.cast(pa.string())
        if pa.types.is_decimal(kind):
            precision, scale = self._scales.get(name, (38, kind.scale))
            return array.cast(pa.decimal128(precision, scale))
        if pa.types.is_integer(kind):
            return array.cast(pa.int64())
        return array

    def _fit(self, field: pa.Field, values: list[Any]) -> pa.Array:
        import pyarrow as pa

        try:
            return pa.array(values, field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
            pass
        if pa.types.is_string(field.type):
            return pa.array(_as_text(values), pa.string())
        try:
            return pa.array(values).cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            bad = _first_misfit(values, field.type)
            raise PermanentError(
                f"{self._what}: column '{field.name}' holds {bad!r}, which is not a {field.type} "
                "as its first rows were",
                hint=f"declare it in column_types, e.g. column_types: {{{field.name}: string}}",
            ) from None


def _as_text(values: list[Any]) -> list[str | None]:
    """Each value as text (a JSON-like value as JSON), NULL kept."""
    import json

    out: list[str | None] = []
    for value in values:
        if value is None or isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict | list):
            out.append(json.dumps(value, ensure_ascii=False, default=str))
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))  # a spreadsheet's 7 is the float 7.0: shown as 7
        else:
            out.append(str(value))
    return out


def _first_misfit(values: list[Any], kind: pa.DataType) -> Any:
    import pyarrow as pa

    for value in values:
        try:
            pa.array([value]).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            return value
    return values[0] if values else None
