"""One sheet of a workbook (.xlsx, .xlsm, .xlsb, .xls, .ods) read straight into Arrow columns.

fastexcel (calamine in Rust, Arrow out) reads a sheet of 100,000 rows twice as fast as
python-calamine's Python values turned into Arrow, which is what lets a collect step keep up
with polars. Only the columns a step wants are converted (``pick``); the others are named in
``ignored`` so the step can say which were left out. Every way a workbook can fail (not a
workbook, encrypted, no such sheet, no header) is a ``BadWorkbook`` naming the file and the
sheet, so a step can skip the file or fail with words a user can act on.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordo.datasets.date_systems import DAY_ZERO_1900, day_zero
from ordo.errors import PermanentError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["EXTENSIONS", "BadWorkbook", "Sheet", "read_sheet"]

EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: .xls, or an encrypted .xlsx


class BadWorkbook(PermanentError):
    """A file a step cannot use: where (file, sheet, row, column) and why, in ``reason``."""

    def __init__(
        self,
        shown: str,
        reason: str,
        *,
        sheet: str | int | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = []
        if sheet is not None:
            where.append(f"sheet {sheet!r}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join([shown, *where])}: {reason}", hint=hint)
        self.shown, self.reason = shown, reason
        # the message without the file: what a list of skipped files says beside each
        self.in_file = f"{', '.join(where)}: {reason}" if where else reason
        self.sheet, self.row, self.column = sheet, row, column
        found = {"file": shown, "sheet": sheet, "row": row, "column": column}
        self.details = {key: value for key, value in found.items() if value is not None}


@dataclass(frozen=True)
class Sheet:
    """The columns picked from one sheet, by their header as written (trimmed)."""

    shown: str  # the file as messages name it
    name: str  # the sheet's own name, also when it was picked by position
    header_row: int  # from 1
    columns: dict[str, pa.Array]
    rows: int
    ignored: tuple[str, ...] = field(default=())
    day_zero: dt.date = DAY_ZERO_1900  # what serial number 0 is: the workbook's date system

    def row_number(self, index: int) -> int:
        """The spreadsheet's row number of data row ``index`` (from 0)."""
        return self.header_row + 1 + index


def read_sheet(
    path: Path,
    sheet: str | int,
    header_row: int,
    pick: Callable[[str], bool],
    *,
    shown: str,
) -> Sheet:
    """The columns of ``sheet`` whose trimmed header ``pick`` accepts, rows below
    ``header_row`` (from 1) as Arrow arrays, types as the cells hold them (a column of mixed
    kinds is text); raises ``BadWorkbook``."""
    import fastexcel

    # fastexcel logs its guesses (an empty column "falls back to string"): the cast that
    # follows decides, and says what it found, so its words would only puzzle a user
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
    try:
        reader = fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError as exc:
        raise _unreadable(path, shown, exc) from None
    except OSError as exc:
        raise BadWorkbook(shown, f"cannot be read ({exc.strerror})") from None
    names = list(reader.sheet_names)
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise _no_sheet(shown, sheet, names)
        name = names[sheet]
    else:
        found = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if not found:
            raise _no_sheet(shown, sheet, names)
        name = found[0]
    ignored: list[str] = []

    def wanted(column: Any) -> bool:
        header = str(column.name).strip()
        if header and not header.startswith("__UNNAMED__") and pick(header):
            return True
        if header and not header.startswith("__UNNAMED__"):
            ignored.append(header)
        return False

    try:
        loaded = reader.load_sheet(name, header_row=header_row - 1, use_columns=wanted)
        batch = loaded.to_arrow()
    except fastexcel.FastExcelError:
        raise BadWorkbook(
            shown,
            "its cells cannot be read (the workbook may be damaged)",
            sheet=name,
            row=header_row,
            hint="open it in a spreadsheet program and save it again, or remove it from the folder",
        ) from None
    if not batch.num_columns and not ignored:
        raise BadWorkbook(
            shown,
            f"no header on row {header_row}",
            sheet=name,
            hint="set header_row: to the row that names the columns",
        )
    columns = {
        str(column_name).strip(): batch.column(i)
        for i, column_name in enumerate(batch.schema.names)
    }
    return Sheet(shown, name, header_row, columns, batch.num_rows, tuple(ignored), day_zero(path))


def _unreadable(path: Path, shown: str, exc: Exception) -> BadWorkbook:
    """Why calamine could not open ``path``, in a user's words."""
    try:
        with path.open("rb") as file:
            start = file.read(8)
    except OSError as error:
        return BadWorkbook(shown, f"cannot be read ({error.strerror})")
    text = _first_line(exc)
    encrypted = "password" in text.lower() or "encrypt" in text.lower()
    if encrypted or (start == _OLE and path.suffix.lower() in (".xlsx", ".xlsm", ".xlsb")):
        return BadWorkbook(
            shown,
            "is password-protected (encrypted), so it cannot be read",
            hint="save a copy without a password (File > Info > Protect Workbook) and read that",
        )
    kind = path.suffix or "spreadsheet"
    return BadWorkbook(
        shown,
        f"is not a readable {kind} workbook: it is damaged, or another kind of file named {kind}",
        hint="open it in a spreadsheet program and save it again, or remove it from the folder",
    )


def _no_sheet(shown: str, sheet: str | int, names: list[str]) -> BadWorkbook:
    which = f"no sheet {sheet!r}" if isinstance(sheet, str) else f"no sheet number {sheet}"
    return BadWorkbook(
        shown,
        f"has {which} (it has {len(names)}: {', '.join(map(repr, names))})",
        hint="set sheet: to a name or a position from 0",
    )


def _first_line(exc: Exception) -> str:
    """fastexcel's message without its context lines (which repeat the path)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
