"""``excel`` sources: one sheet of an .xlsx, .xlsm, .xlsb, .xls or .ods file (python-calamine).

The first row (or ``header_row``) names the columns; the rows below are read one at a time
and go out in batches. A spreadsheet stores numbers as floats: a column of whole numbers
comes out as integers, a column mixing text and numbers as text (so ``00123`` typed as text
stays text); ``column_types`` fixes a column's type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ordo.errors import PermanentError
from ordo.extractors._arrow import Batcher, ColumnTypes
from ordo.extractors._files import FileConfig, FileSource
from ordo.extractors.base import BATCH_ROWS

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import PlanContext

__all__ = ["ExcelConfig", "ExcelExtractor"]

EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


class ExcelConfig(FileConfig):
    sheet: str | int = 0  # a name, or the position from 0
    header_row: int = Field(1, ge=1)  # the row (from 1) holding the column names
    column_types: ColumnTypes = Field(default_factory=dict)
    batch_rows: int = Field(BATCH_ROWS, ge=1)


class ExcelExtractor(FileSource[ExcelConfig]):
    config_model: ClassVar[type[ExcelConfig]] = ExcelConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow", "python_calamine")
    kind = "excel"

    def __init__(self, config: ExcelConfig, plan: PlanContext) -> None:
        super().__init__(config, plan)
        for file in self.files:
            if file.suffix.lower() not in EXTENSIONS:
                raise plan.problem(
                    f"'{self.shown(file)}' is not a spreadsheet (one of {', '.join(EXTENSIONS)})",
                    "path",
                )

    def describe(self) -> str:
        return f"{super().describe()} sheet {self.config.sheet!r}"

    def read(self, file: Path) -> Iterator[pa.RecordBatch]:
        import python_calamine as calamine

        shown, config = self.shown(file), self.config
        try:
            workbook = calamine.CalamineWorkbook.from_path(str(file))
        except calamine.CalamineError as exc:
            raise PermanentError(f"{shown} cannot be read as a spreadsheet: {exc}") from None
        try:
            if isinstance(config.sheet, int):
                sheet = workbook.get_sheet_by_index(config.sheet)
            else:
                sheet = workbook.get_sheet_by_name(config.sheet)
        except (calamine.CalamineError, IndexError) as exc:
            raise PermanentError(
                f"{shown} has no sheet {config.sheet!r} ({exc})",
                hint=f"its sheets: {', '.join(workbook.sheet_names)}",
            ) from None
        rows = sheet.iter_rows()
        for _ in range(config.header_row - 1):
            next(rows, None)
        header = [str(v).strip() if v not in (None, "") else "" for v in next(rows, [])]
        if not any(header):
            raise PermanentError(
                f"{shown}, sheet {config.sheet!r}: no header on row {config.header_row}"
            )
        names = [name or f"column_{i}" for i, name in enumerate(header, 1)]
        batcher = Batcher(config.column_types, what=f"{shown}, sheet {config.sheet!r}")
        chunk: list[list[Any]] = [[] for _ in names]
        count = 0
        for row in rows:
            if all(value in (None, "") for value in row):
                continue  # spreadsheets end in blank rows
            for i, column in enumerate(chunk):
                column.append(_cell(row[i]) if i < len(row) else None)
            count += 1
            if count == config.batch_rows:
                yield _whole_numbers(batcher, names, chunk)
                chunk, count = [[] for _ in names], 0
        if count or batcher.schema is None:
            yield _whole_numbers(batcher, names, chunk)


def _cell(value: Any) -> Any:
    """A cell as a value: empty is NULL; a date-time at midnight of a date cell stays as is."""
    if value == "":
        return None
    if isinstance(value, dt.timedelta):  # a duration cell
        return value.total_seconds()
    return value


def _whole_numbers(batcher: Batcher, names: list[str], chunk: list[list[Any]]) -> pa.RecordBatch:
    """Floats that are all whole numbers become integers in the first batch, so an Excel
    column of ids is an integer column (a later fraction in it is an error naming it)."""
    if batcher.schema is None:
        for column in chunk:
            values = [v for v in column if v is not None]
            if values and all(isinstance(v, float) and v.is_integer() for v in values):
                column[:] = [None if v is None else int(v) for v in column]
    return batcher.from_columns(names, chunk)
