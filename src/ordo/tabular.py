"""Query results written to files (``output_file``), CSV or JSON by the file's extension.

Values come out the way a person reading the file expects: dates and times in ISO 8601, exact
decimals (never a float's noise), NULL as an empty CSV cell or JSON ``null``. Files are
written atomically, after the step's transaction has committed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ordo._files import write_atomic

__all__ = ["TabularResult", "render", "write_output"]


def write_output(path: Path, result: TabularResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    write_atomic(path, render(result, fmt).encode("utf-8"))


def render(result: TabularResult, fmt: str) -> str:
    """The rows as CSV (with a header row) or JSON (a list of objects)."""
    return _to_json(result) if fmt == "json" else _to_csv(result)


def _to_csv(result: TabularResult) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else _text(v) for v in row])
    return buffer.getvalue()


def _to_json(result: TabularResult) -> str:
    records = [
        {col: _json_value(v) for col, v in zip(result.columns, row, strict=False)}
        for row in result.rows
    ]
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def _text(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        # A JSON number when it is exact as one, otherwise the exact digits as a string.
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return value
    return str(value)


@dataclass(frozen=True)
class TabularResult:
    """Rows a statement returned (kept until its transaction commits, for output files)."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    rowcount: int | None = None

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
