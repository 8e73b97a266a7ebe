"""CSV seeds as a library: read and type a file (no database), then load it into a table.

``read_seed`` does everything that can be done without a database (``ordo.data.typed_csv``),
so that a plan finds every bad file before any table is touched. ``load_seed`` then makes the
table ready
(``prepare_table``) and fills it by the backend's bulk path: its own CSV loader where it has
one (PostgreSQL ``COPY``, DuckDB ``read_csv``), else ``insert_rows``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy

from ordo.data.arrow_seeds import ArrowValues
from ordo.data.csv_files import CsvFile, CsvFormat
from ordo.data.inference import python_values
from ordo.data.tables import Mode, Target, insert_rows, prepare_table, table_sql
from ordo.data.typed_csv import TypedCsv, no_cyclic_gc, read_typed_csv
from ordo.data.types import Column
from ordo.db.dialects import Dialect, NamePart
from ordo.db.dialects.base import CsvSource

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Seed", "load_seed", "read_seed", "seed_of"]


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
    """Read, check and type ``path`` for loading into ``target`` (``read_typed_csv``);
    ``CsvError`` says what is wrong, with the line."""
    return seed_of(read_typed_csv(path, format, column_types), target)


def seed_of(typed: TypedCsv, target: Target) -> Seed:
    """The read file ``typed`` as a seed of ``target``."""
    return Seed(typed.file, target, typed.columns, typed.text)


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
            file.path,
            file.body,
            format.delimiter,
            format.quote,
            format.nulls,
            format.is_utf8,
            _typed(seed),
        ),
    )
    if native is not None:
        return native
    with no_cyclic_gc():
        values = [
            python_values(column_values, column.type, format.nulls)
            for column_values, column in zip(seed.values, seed.columns, strict=True)
        ]
    return insert_rows(connection, dialect, seed.target, seed.columns, zip(*values, strict=True))


def _typed(seed: Seed) -> Callable[[], pa.Table | None] | None:
    """The seed's values typed, made when a loader asks (pyarrow read the file)."""
    text = seed.text
    if not isinstance(text, ArrowValues):
        return None
    types = [column.type for column in seed.columns]
    return lambda: text.typed(types, seed.file.format.nulls)
