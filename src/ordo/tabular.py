"""Query results written to files (``output_file``), CSV or JSON by the file's extension.

Values come out the way a person (or a program) reading the file expects, the same on every
database:

- JSON: one array of objects, one object per line. Exact numerics (``DECIMAL``, ``NUMERIC``)
  are JSON numbers written with the database's own digits, so ``0.10`` stays ``0.10`` and a
  column is numbers all through (JSON numbers have no precision limit; a reader that needs
  exactness parses them as decimals, e.g. Python's ``parse_float=Decimal``). Only NaN and
  infinities, which JSON has no number for, are strings. json/jsonb values and arrays are
  JSON values; dates, times and timestamps are ISO 8601 text (``12:34:56``), intervals ISO
  8601 durations (``PT1H30M``), bytes hex.
- CSV: a header row, then minimal quoting. NULL is written as ``null_marker`` (by default
  nothing: an empty unquoted field) and a value equal to the marker is quoted, so NULL and
  ``''`` stay apart (``,""`` is an empty string), as PostgreSQL's ``COPY ... CSV`` does and
  reads back. json/jsonb is JSON text; PostgreSQL arrays keep PostgreSQL's literal form
  (``{1,2,3}``, read by the dialect as text); other databases' lists are JSON text.
  Other values as in JSON, without quotes: ``true``/``false``, ISO 8601, exact digits.

Two columns of one name are an error naming them: a JSON object cannot hold both, and a CSV
header that repeats a name loses one column in every reader that maps by name.

Files are written as the rows arrive (``stage_table``): a dialect streams batches into a
``TableWriter`` over the temp file, so memory stays bounded whatever the row count. The temp
file is renamed into place by the runner after the step's transaction commits; a step that
fails leaves the previous file as it was. An ``OSError`` becomes an ``OutputFileError`` that
names the file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from ordo._files import StagedFile, stage_writing
from ordo.errors import OutputFileError

__all__ = [
    "CSV_SPECIALS",
    "JsonText",
    "TableWriter",
    "TabularResult",
    "iso_duration",
    "output_file_error",
    "render",
    "stage_output",
    "stage_table",
    "write_output",
]

CSV_SPECIALS = frozenset(',"\r\n')
"""Characters that make a CSV field quoted (and that a ``null_marker`` may not hold)."""

_encode_str: Callable[[str], str] = json.encoder.encode_basestring


class JsonText(str):
    """Text that already is JSON (a json/jsonb value as the database wrote it): a JSON value
    in JSON output, written as it is in CSV."""

    __slots__ = ()

    @classmethod
    def of(cls, value: Any) -> Any:
        """``value`` marked as JSON text if it is text (a driver may have parsed it already)."""
        return cls(value) if isinstance(value, str) else value


def stage_table(
    path: Path,
    produce: Callable[[TableWriter], object],
    *,
    null_marker: str = "",
    label: str | None = None,
) -> tuple[StagedFile, int] | None:
    """The rows ``produce`` writes, in a temp file beside ``path``; with the row count.

    ``produce`` calls ``start`` then ``rows`` (or ``raw``) on the writer as results arrive.
    ``None`` if it never called ``start`` (the statement gave no result set: DDL, an
    ``INSERT`` without ``RETURNING``): no file at all, since an empty one would pass for a
    result, and the caller says so. Raises ``OutputFileError`` if the file cannot be
    written or two columns share a name; anything ``produce`` raises passes through. Either
    way no temp file is left.
    """
    shown = label or str(path)
    fmt = "json" if path.suffix.lower() == ".json" else "csv"
    counted: list[int] = []

    def write(out: BinaryIO) -> None:
        writer = TableWriter(out, fmt, null_marker=null_marker, target=f"output_file {shown}")
        produce(writer)
        if not writer.started:
            raise _NoResultSet
        counted.append(writer.finish())

    try:
        staged = stage_writing(path, write, make_folders=True)
    except _NoResultSet:
        return None  # stage_writing removed the temp file and any folder it made
    except OSError as exc:
        if isinstance(exc, ConnectionError | TimeoutError):
            raise  # the database's socket, not the file: database_errors translates it
        raise output_file_error(path, exc) from exc
    return staged, counted[0]


class _NoResultSet(Exception):
    """``produce`` never started the writer: there is nothing to put in a file."""


class TableWriter:
    """Writes one result to a binary file as CSV or JSON, batch by batch."""

    def __init__(
        self, out: BinaryIO, fmt: str, *, null_marker: str = "", target: str = "the output"
    ) -> None:
        self.out, self.fmt, self.null_marker, self.target = out, fmt, null_marker, target
        self.columns: tuple[str, ...] = ()
        self.started = False
        self.count = 0
        self._null = _Null(null_marker)
        self._keys: list[str] = []

    def start(self, columns: Sequence[str], *, header: bool = True) -> None:
        """Check the column names and write the header (``header=False``: ``raw`` has it)."""
        self.columns = tuple(columns)
        repeated = [name for name, n in Counter(self.columns).items() if n > 1]
        if repeated:
            names = ", ".join(f"'{name}'" for name in repeated)
            raise OutputFileError(
                f"the result has more than one column named {names} (columns: "
                f"{', '.join(self.columns)}); {self.target} needs one name per column "
                "(hint: give each column its own name with AS)"
            )
        self.started = True
        if self.fmt == "json":
            self._keys = [_encode_str(name) + ": " for name in self.columns]
            self.out.write(b"[")
        elif header:
            self._write_csv([self.columns])

    def rows(self, batch: Sequence[Sequence[Any]]) -> None:
        """Write a batch of rows (each in the order of ``columns``)."""
        if not batch:
            return
        if self.fmt == "json":
            keys = self._keys
            lines = [
                "{" + ", ".join([k + _json(v) for k, v in zip(keys, row, strict=True)]) + "}"
                for row in batch
            ]
            lead = ",\n" if self.count else "\n"
            self.out.write((lead + ",\n".join(lines)).encode("utf-8"))
        else:
            self._csv_rows(batch)
        self.count += len(batch)

    def raw(self, data: bytes | memoryview, rows: int = 0) -> None:
        """Bytes already in this writer's format (PostgreSQL's ``COPY`` output)."""
        self.out.write(data)
        self.count += rows

    def finish(self) -> int:
        """Close the JSON array; the number of rows written."""
        if self.fmt == "json":
            self.out.write(b"\n]\n" if self.count else b"]\n")
        return self.count

    def _csv_rows(self, batch: Sequence[Sequence[Any]]) -> None:
        marker = self.null_marker
        columns = [list(col) for col in zip(*batch, strict=True)]
        clash = len(columns) == 1  # csv writes a lone empty field as "": do it by hand
        for i in range(len(columns)):
            if not _CSV_PLAIN.issuperset(map(type, columns[i])):
                columns[i] = [None if v is None else _text(v) for v in columns[i]]
            col = columns[i]
            clash = clash or marker in col  # a value that reads back as NULL: quote it
            if marker and None in col:
                columns[i] = [self._null if v is None else v for v in col]
        rows = list(zip(*columns, strict=True))
        if clash:
            text = "".join(",".join([self._field(v) for v in row]) + "\n" for row in rows)
            self.out.write(text.encode("utf-8"))
        else:
            self._write_csv(rows)

    def _field(self, value: Any) -> str:
        if value is None or value is self._null:
            return self.null_marker
        text = value if isinstance(value, str) else str(value)
        if text == self.null_marker or not CSV_SPECIALS.isdisjoint(text):
            return '"' + text.replace('"', '""') + '"'
        return text

    def _write_csv(self, rows: Iterable[Sequence[Any]]) -> None:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        self.out.write(buffer.getvalue().encode("utf-8"))


class _Null(str):
    """NULL when ``null_marker`` is not empty: its text, told apart from a value equal to it."""

    __slots__ = ()


_CSV_PLAIN = frozenset({str, int, float, type(None)})  # written by csv as they are


def iso_duration(value: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` as ISO 8601: ``PT1H30M`` (``-PT1H`` if negative)."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if value.microseconds:
        clock += f"{seconds}.{value.microseconds:06d}".rstrip("0") + "S"
    elif seconds:
        clock += f"{seconds}S"
    days = f"{value.days}D" if value.days else ""
    if not days and not clock:
        return "PT0S"
    return f"{sign}P{days}" + (f"T{clock}" if clock else "")


def _text(value: Any) -> str:
    """A CSV field's text (the value is not None)."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else _non_finite(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple | dict):
        return _json(value)
    return str(value)


def _json(value: Any) -> str:
    """A value as JSON text; exact numbers keep their digits."""
    kind = type(value)
    if value is None:
        return "null"
    if kind is str:
        return _encode_str(value)
    if kind is JsonText:
        return str.__str__(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if isinstance(value, float):
        return repr(float(value)) if math.isfinite(value) else _encode_str(_non_finite(value))
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else _encode_str(_non_finite(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join([_json(v) for v in value]) + "]"
    if isinstance(value, dict):
        items = [_encode_str(str(k)) + ": " + _json(v) for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, str):
        return _encode_str(str.__str__(value))
    if isinstance(value, bool | int):
        return _json(bool(value) if isinstance(value, bool) else int(value))
    if isinstance(value, datetime | date | time | timedelta | bytes | bytearray | memoryview):
        return _encode_str(_text(value))
    if isinstance(value, uuid.UUID):
        return _encode_str(str(value))
    return _encode_str(str(value))


def _non_finite(value: float | Decimal) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


# -- whole results in memory (``ordo db query``, the Python API) ---------------------------


def write_output(path: Path, result: TabularResult) -> None:
    """Write ``result`` to ``path`` at once; raises ``OutputFileError``."""
    staged = stage_output(path, result)
    try:
        staged.replace()
    except OSError as exc:
        raise output_file_error(path, exc) from exc


def stage_output(path: Path, result: TabularResult) -> StagedFile:
    """``result`` written beside ``path``, not yet in place; raises ``OutputFileError``."""
    written = stage_table(path, result.write_to)
    assert written is not None  # ``write_to`` always starts the writer
    return written[0]


def output_file_error(path: Path, exc: OSError) -> OutputFileError:
    """One line naming the file, the system's reason and what to do about it."""
    # What to do is part of the message: a step's failure reaches the user as its message.
    reason = exc.strerror or type(exc).__name__
    return OutputFileError(
        f"could not write output file {path}: {reason} (hint: make it a path ordo can write "
        "a file to, not a folder; the step rolled back and runs again next time)"
    )


def render(result: TabularResult, fmt: str, *, null_marker: str = "") -> str:
    """The rows as CSV (with a header row) or JSON (a list of objects), as in output files."""
    buffer = io.BytesIO()
    writer = TableWriter(buffer, fmt, null_marker=null_marker, target=f"{fmt} output")
    result.write_to(writer)
    writer.finish()
    return buffer.getvalue().decode("utf-8")


@dataclass(frozen=True)
class TabularResult:
    """Rows a statement returned, all in memory (``ordo db query``, ``fetch``)."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    rowcount: int | None = None

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def write_to(self, writer: TableWriter) -> None:
        """Hand the rows to ``writer`` (as a streaming dialect would)."""
        writer.start(self.columns)
        writer.rows(self.rows)
