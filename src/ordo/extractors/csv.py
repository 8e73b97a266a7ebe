"""``csv`` sources: one file or a glob, read by pyarrow's streaming CSV reader.

Every column is read as text unless ``column_types`` gives it a type, so ``00123`` stays
``00123`` and nothing is guessed; an empty field is NULL (``null_values`` sets the markers),
a quoted empty field ``""`` stays an empty string. Files are read block by block
(``block_size`` bytes), never whole.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from ordo.errors import PermanentError
from ordo.extractors._arrow import ColumnTypes, arrow_type
from ordo.extractors._files import FileConfig, FileSource

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import PlanContext

__all__ = ["CsvConfig", "CsvExtractor"]

_TYPE_WORDS = {
    "int64": "an integer",
    "double": "a float",
    "bool": "a boolean",
    "date32": "a date",
    "decimal128": "a decimal of that scale",
    "timestamp": "an ISO timestamp",
}
_CONVERSION = re.compile(
    r"In CSV column #(\d+): CSV conversion error to (\w+): invalid value '(.*)'"
)


class CsvConfig(FileConfig):
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    encoding: str = "utf-8"
    null_values: tuple[str, ...] = ("",)
    column_types: ColumnTypes = Field(default_factory=dict)
    block_size: int = Field(4 << 20, ge=1 << 16)  # bytes read (and one batch) at a time


class CsvExtractor(FileSource[CsvConfig]):
    config_model: ClassVar[type[CsvConfig]] = CsvConfig
    kind = "csv"

    def __init__(self, config: CsvConfig, plan: PlanContext) -> None:
        super().__init__(config, plan)
        try:
            "".encode(config.encoding)
        except LookupError:
            raise plan.problem(f"unknown encoding '{config.encoding}'", "encoding") from None

    def read(self, file: Path) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        from pyarrow import csv as pa_csv

        config = self.config
        names = self._header(file)
        unknown = sorted(set(config.column_types) - set(names))
        if unknown:
            raise PermanentError(
                f"{self.shown(file)} has no column {', '.join(repr(u) for u in unknown)} "
                "(named in column_types)",
                hint=f"its columns: {', '.join(names)}",
            )
        types = {name: pa.string() for name in names}
        types.update({k: arrow_type(v) for k, v in config.column_types.items()})
        read_options = pa_csv.ReadOptions(encoding=config.encoding, block_size=config.block_size)
        parse_options = pa_csv.ParseOptions(delimiter=config.delimiter, quote_char=config.quote)
        convert_options = pa_csv.ConvertOptions(
            column_types=types,
            null_values=list(config.null_values),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        try:  # opening reads the first block already
            with pa_csv.open_csv(file, read_options, parse_options, convert_options) as reader:
                empty = True
                for batch in reader:
                    empty = False
                    yield batch
                if empty:  # a header alone: no rows, but the columns a table is made with
                    yield pa.RecordBatch.from_pylist([], schema=reader.schema)
        except pa.ArrowInvalid as exc:
            raise self._located(file, names, str(exc)) from None

    def _rows(self, file: Path) -> Iterator[tuple[int, list[str]]]:
        """Each row after the header with the line it starts on, as Python's csv reads it."""
        config = self.config
        with file.open(encoding=config.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=config.delimiter, quotechar=config.quote)
            next(reader, None)
            line = reader.line_num + 1
            for row in reader:
                yield line, row
                line = reader.line_num + 1

    def _located(self, file: Path, names: list[str], message: str) -> PermanentError:
        """Arrow's parse or conversion error, saying the line and the column's name (Arrow
        gives neither): the file is read again, only now that it has failed."""
        shown = self.shown(file)
        if "CSV parse error" in message:
            for line, row in self._rows(file):
                if len(row) != len(names):
                    return PermanentError(
                        f"{shown}, line {line}: {len(row)} fields, but the header has {len(names)}",
                        hint="quote values that hold the delimiter, or fix the row",
                    )
        found = _CONVERSION.search(message)
        if found:
            index, value = int(found[1]), found[3]
            name = names[index] if index < len(names) else f"#{index}"
            where = next(
                (
                    f", line {n}"
                    for n, row in self._rows(file)
                    if len(row) > index and row[index] == value
                ),
                "",
            )
            kind = _TYPE_WORDS.get(found[2], f"a {found[2]}")
            return PermanentError(
                f"{shown}{where}: column '{name}' holds {value!r}, which is not {kind}",
                hint=f"fix the value, or read the column as text (column_types: {{{name}: text}})",
            )
        return PermanentError(f"{shown}: {message.strip().splitlines()[0]}")

    def _header(self, file: Path) -> list[str]:
        """The header row, read with the same dialect, to type every column as text."""
        config = self.config
        with file.open(encoding=config.encoding, newline="") as handle:
            if config.encoding.replace("-", "").lower() == "utf8" and handle.read(1) != "\ufeff":
                handle.seek(0)
            row = next(csv.reader(handle, delimiter=config.delimiter, quotechar=config.quote), [])
        if not row:
            raise PermanentError(f"{self.shown(file)} is empty: no header row")
        duplicates = sorted({name for name in row if row.count(name) > 1})
        if duplicates:
            raise PermanentError(
                f"{self.shown(file)}: the header names {', '.join(duplicates)} more than once"
            )
        return row
