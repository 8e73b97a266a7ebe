"""Arrow values as JSON: nested columns as JSON text, rows as JSON lines."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["json_default", "json_lines", "nested_as_json"]


def json_default(value: Any) -> Any:
    """What ``json.dumps`` cannot write itself: exact decimals and times as text, bytes as
    base64."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def json_lines(batch: pa.RecordBatch) -> bytes:
    """The batch's rows, one JSON object a line."""
    return b"".join(
        (json.dumps(row, ensure_ascii=False, default=json_default) + "\n").encode("utf-8")
        for row in batch.to_pylist()
    )


def nested_as_json(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with its struct, list and map columns as JSON text (others unchanged)."""
    import pyarrow as pa

    if not any(_nested(field.type) for field in batch.schema):
        return batch
    arrays, fields = [], []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if not _nested(field.type):
            arrays.append(column)
            fields.append(field)
            continue
        values = [
            None if v is None else json.dumps(v, ensure_ascii=False, default=json_default)
            for v in column.to_pylist()
        ]
        arrays.append(pa.array(values, pa.string()))
        fields.append(pa.field(field.name, pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _nested(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(
        pa.types.is_struct(kind)
        or pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_map(kind)
    )
