"""A CSV file read, checked and typed, with no database in sight: a seed before its table.

``read_typed_csv`` does everything that can be done without a database, so that a plan finds
every bad file before any table is touched: it reads and decodes the file, checks its header
and that every row has as many fields, and types each column (``column_types`` honoured, the
rest inferred; see ``ordo.data.inference``). It imports neither SQLAlchemy nor a driver, so
that ``ordo run`` can start it in the background while those are still being imported
(``ordo._read_ahead``).
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ordo.data.arrow_seeds import ArrowValues, read_typed
from ordo.data.csv_files import CsvError, CsvFile, CsvFormat, read_csv
from ordo.data.inference import declared_type, first_bad_value, infer_type
from ordo.data.types import Column

__all__ = ["TypedCsv", "no_cyclic_gc", "read_typed_csv"]


@dataclass(frozen=True)
class TypedCsv:
    """A checked CSV file and its columns' types. ``text`` holds the text of each column: a
    tuple per column (a few objects for the collector to walk, where rows would be one list
    each), or Arrow arrays when pyarrow read the file."""

    file: CsvFile
    columns: tuple[Column, ...]
    text: tuple[tuple[str, ...], ...] | ArrowValues = field(default=(), repr=False, compare=False)


def read_typed_csv(
    path: Path,
    format: CsvFormat | None = None,
    column_types: Mapping[str, str] | None = None,
) -> TypedCsv:
    """Read, check and type ``path``; ``CsvError`` says what is wrong (ragged rows, a bad
    header, invalid text, a value that does not fit its declared type, a ``column_types``
    name that is not a column), with the line."""
    file = read_csv(path, format)
    declared = dict(column_types or {})
    unknown = sorted(set(declared) - set(file.header))
    if unknown:
        raise CsvError(
            path,
            f"column_types names {', '.join(map(repr, unknown))}, which the header does not "
            f"have (its columns: {', '.join(file.header)})",
            line=1,
        )
    by_arrow = read_typed(file, declared, lambda n, v, d: _column(file, n, v, d).type)
    if by_arrow is not None:
        types, text = by_arrow
        columns = tuple(Column(n, t) for n, t in zip(file.header, types, strict=True))
        return TypedCsv(file, columns, text)
    with no_cyclic_gc():
        rows = file.rows() if file.body else []
        width = len(file.header)
        if rows and set(map(len, rows)) != {width}:
            index = next(i for i, row in enumerate(rows) if len(row) != width)
            found = len(rows[index])
            raise CsvError(
                path,
                f"this row has {found} field{'s' if found != 1 else ''}, the header has {width}",
                line=_line_of_row(file, index),
            )
        values = tuple(zip(*rows, strict=True)) if rows else tuple(() for _ in file.header)
        del rows  # freed while the collector waits: it never walks them
        columns = tuple(
            _column(file, name, column, declared.get(name))
            for name, column in zip(file.header, values, strict=True)
        )
    return TypedCsv(file, columns, values)


def _column(file: CsvFile, name: str, values: tuple[str, ...], declared: str | None) -> Column:
    nulls = file.format.nulls
    if declared is None:
        return Column(name, infer_type(values, nulls))
    column_type, pattern = declared_type(declared)
    if pattern is not None:
        bad = first_bad_value(values, nulls, pattern, declared)
        if bad is not None:
            raise CsvError(
                file.path,
                f"column {name!r}: value {bad.value!r} does not fit its declared type {declared}",
                line=_line_of_row(file, bad.index),
            )
    return Column(name, column_type)


def _line_of_row(file: CsvFile, index: int) -> int:
    """The file's line where data row ``index`` (0-based) starts; quoted fields may span
    lines, so the rows are counted again (only when an error needs it)."""
    if file.format.quote not in file.body:
        return index + 2
    reader = csv.reader(
        io.StringIO(file.body, newline=""),
        delimiter=file.format.delimiter,
        quotechar=file.format.quote,
    )
    line = 0
    for number, _ in enumerate(reader):
        if number == index:
            return line + 2
        line = reader.line_num
    return line + 2


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Parsing a file makes millions of strings and lists, none in a cycle; the cyclic
    collector would walk them all again and again (a third of the time), so it waits."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
