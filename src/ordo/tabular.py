"""Query results written to files (``output_file``), CSV or JSON by the file's extension.

Values come out the way a person reading the file expects: dates and times in ISO 8601, exact
decimals (never a float's noise), NULL as an empty CSV cell or JSON ``null``. Files are
written atomically in two halves: ``stage_output`` writes the temp file while the step's
transaction is still open (so a file that cannot be written fails the step and rolls it back)
and the runner renames it into place after the commit. An ``OSError`` becomes an
``OutputFileError`` that names the file.
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

from ordo._files import StagedFile, stage
from ordo.errors import OutputFileError

__all__ = ["TabularResult", "output_file_error", "render", "stage_output", "write_output"]


def write_output(path: Path, result: TabularResult) -> None:
    """Write ``result`` to ``path`` at once; raises ``OutputFileError``."""
    staged = stage_output(path, result)
    try:
        staged.replace()
    except OSError as exc:
        raise output_file_error(path, exc) from exc


def stage_output(path: Path, result: TabularResult) -> StagedFile:
    """``result`` written beside ``path``, not yet in place; raises ``OutputFileError``."""
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    data = render(result, fmt).encode("utf-8")
    try:
        return stage(path, data, make_folders=True)
    except OSError as exc:
        raise output_file_error(path, exc) from exc


def output_file_error(path: Path, exc: OSError) -> OutputFileError:
    """One line naming the file, the system's reason and what to do about it."""
    # What to do is part of the message: a step's failure reaches the user as its message.
    reason = exc.strerror or type(exc).__name__
    return OutputFileError(
        f"could not write output file {path}: {reason} (hint: make it a path ordo can write "
        "a file to, not a folder; the step rolled back and runs again next time)"
    )


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
