"""CSV seeds as a library: read and type a file (no database), then load it into a table.

``read_seed`` does everything that can be done without a database, so that a plan finds
every bad file before any table is touched: it reads and decodes the file, checks its header
and that every row has as many fields, and types each column (``column_types`` honoured, the
rest inferred; see ``ordo.data.inference``). ``load_seed`` then makes the table ready
(``prepare_table``) and fills it by the backend's bulk path: its own CSV loader where it has
one (PostgreSQL ``COPY``, DuckDB ``read_csv``), else ``insert_rows``.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy

from ordo.data.arrow_seeds import ArrowValues, read_typed
from ordo.data.csv_files import CsvError, CsvFile, CsvFormat, read_csv
from ordo.data.inference import declared_type, first_bad_value, infer_type, python_values
from ordo.data.tables import Mode, Target, insert_rows, prepare_table, table_sql
from ordo.data.types import Column
from ordo.db.dialects import Dialect, NamePart
from ordo.db.dialects.base import CsvSource

__all__ = ["Seed", "load_seed", "read_seed"]


@dataclass(frozen=True)
class Seed:
    """A checked CSV file, its columns typed, and the table it goes to. ``text`` holds the
    text of each column: a tuple per column (a few objects for the collector to walk, where
    rows would be one list each), or Arrow arrays when pyarrow read the file."""

    file: CsvFile
    target: Target
    columns: tuple[Column, ...]
    text: tuple[tuple[str, ...], ...] | ArrowValues = field(default=(), repr=False, compare=False)

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def values(self) -> tuple[tuple[str, ...], ...]:
        """Each column's values as text (made from the Arrow arrays when those hold them)."""
        return self.text.as_tuples() if isinstance(self.text, ArrowValues) else self.text


def read_seed(
    path: Path,
    target: Target,
    format: CsvFormat | None = None,
    column_types: Mapping[str, str] | None = None,
) -> Seed:
    """Read, check and type ``path`` for loading into ``target``; ``CsvError`` says what is
    wrong (ragged rows, a bad header, invalid text, a value that does not fit its declared
    type, a ``column_types`` name that is not a column), with the line."""
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
        return Seed(file, target, columns, text)
    with _no_cyclic_gc():
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
    return Seed(file, target, columns, values)


def load_seed(
    connection: sqlalchemy.Connection,
    dialect: Dialect,
    seed: Seed,
    mode: Mode = "replace",
    *,
    cascade: bool = False,
    prepared: bool = False,
) -> int:
    """Load ``seed`` into its table in the caller's transaction; returns the rows loaded.

    ``prepared``: ``prepare_table`` already ran (a caller loading several seeds empties the
    tables children first, then loads them parents first)."""
    if not prepared:
        prepare_table(connection, dialect, seed.target, seed.columns, mode, cascade=cascade)
    file, format = seed.file, seed.file.format
    if not file.body:
        return 0
    columns_sql = [dialect.quote_part(NamePart(c.name, quoted=True)) for c in seed.columns]
    native = dialect.load_csv(
        connection,
        table_sql(dialect, seed.target),
        columns_sql,
        [dialect.column_type_sql(column.type) for column in seed.columns],
        CsvSource(
            file.path, file.body, format.delimiter, format.quote, format.nulls, format.is_utf8
        ),
    )
    if native is not None:
        return native
    with _no_cyclic_gc():
        values = [
            python_values(column_values, column.type, format.nulls)
            for column_values, column in zip(seed.values, seed.columns, strict=True)
        ]
    return insert_rows(connection, dialect, seed.target, seed.columns, zip(*values, strict=True))


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
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing a file makes millions of strings and lists, none in a cycle; the cyclic
    collector would walk them all again and again (a third of the time), so it waits."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
