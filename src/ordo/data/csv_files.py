"""Reading a CSV file for a seed: its text, its header, its dialect, and what is wrong with it.

The file is read and checked whole before any table is touched, so a bad file never leaves
half a load behind: invalid text in the encoding (line and byte), an empty or duplicate
header name, and, through ``ordo.data.inference``, ragged rows and values that do not fit
their column. Headers are kept exactly as written; the dialect quotes them.

Only the standard library: seeds are core, and the bulk paths (PostgreSQL ``COPY``,
DuckDB's own reader) take the checked text or file directly, so the rows become Python values
only on backends that need them (``rows``).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CsvError", "CsvFile", "CsvFormat", "read_csv"]


class CsvError(ValueError):
    """A CSV file ordo cannot load as it is: what, and where (1-based line of the file)."""

    def __init__(self, path: Path, message: str, *, line: int | None = None) -> None:
        where = f"{path.name}, line {line}" if line is not None else path.name
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.reason = path, line, message


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is written. ``null_values`` are the texts that stand for NULL (an empty
    field by default); ``keep_empty`` loads an empty field as an empty string instead."""

    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"
    null_values: tuple[str, ...] = ("",)
    keep_empty: bool = False

    @property
    def nulls(self) -> frozenset[str]:
        """The field texts that load as NULL."""
        markers = set(self.null_values)
        if self.keep_empty:
            markers.discard("")
        return frozenset(markers)

    @property
    def is_utf8(self) -> bool:
        return codecs.lookup(self.encoding).name == "utf-8"


@dataclass(frozen=True)
class CsvFile:
    """A read, decoded CSV file: ``body`` is the text after the header line, ending in a line
    break (the one its lines use), without a BOM and without blank lines at its end."""

    path: Path
    format: CsvFormat
    header: tuple[str, ...]
    body: str
    has_bom: bool = False

    def rows(self) -> list[list[str]]:
        """The data rows as text fields, parsed on each call (``csv`` is the standard
        library's parser, in C); ``CsvError`` for text it cannot read."""
        reader = csv.reader(
            io.StringIO(self.body, newline=""),
            delimiter=self.format.delimiter,
            quotechar=self.format.quote,
            strict=True,
        )
        try:
            return list(reader)
        except csv.Error as exc:
            raise CsvError(
                self.path, f"cannot be read as CSV: {exc}", line=reader.line_num + 1
            ) from None


def read_csv(path: Path, format: CsvFormat | None = None) -> CsvFile:
    """Read and decode ``path`` and check its header; ``CsvError`` says what is wrong."""
    format = format or CsvFormat()
    data = path.read_bytes()
    text, has_bom = _decode(path, data, format.encoding)
    # Where the text ends before its last line breaks, found without copying it (a seed's
    # text is copied once, into its body: a copy of a big file costs as much as reading it)
    stop = len(text)
    while stop and text[stop - 1] in "\r\n":
        stop -= 1
    if not stop:
        raise CsvError(path, "the file is empty: a seed needs a header line")
    end = text.find("\n", 0, stop)
    header_text = text[:stop] if end == -1 else text[:end]
    # The body ends in the line break its lines use: COPY refuses a file that mixes them.
    ending = "\r\n" if header_text.endswith("\r") else "\n"
    if end == -1:
        body = ""
    elif text.startswith(ending, stop):
        body = text[end + 1 : stop + len(ending)]
    else:
        body = text[end + 1 : stop] + ending
    header = _header(path, header_text.rstrip("\r"), format)
    return CsvFile(path, format, header, body, has_bom)


def _decode(path: Path, data: bytes, encoding: str) -> tuple[str, bool]:
    is_utf8 = codecs.lookup(encoding).name == "utf-8"
    has_bom = is_utf8 and data.startswith(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8-sig" if is_utf8 else encoding), has_bom
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column_byte = exc.start - (before.rfind(b"\n") + 1) + 1
        raise CsvError(
            path,
            f"byte 0x{data[exc.start]:02x} at byte {column_byte} of the line (byte "
            f"{exc.start + 1} of the file) is not valid {encoding}; give the file's encoding "
            "(encoding: latin-1, cp1252, ...) or re-save it as UTF-8",
            line=line,
        ) from None


def _header(path: Path, text: str, format: CsvFormat) -> tuple[str, ...]:
    try:
        rows = list(
            csv.reader([text], delimiter=format.delimiter, quotechar=format.quote, strict=True)
        )
    except csv.Error as exc:
        raise CsvError(path, f"the header cannot be read: {exc}", line=1) from None
    names: Sequence[str] = rows[0] if rows else []
    seen: dict[str, int] = {}
    for number, name in enumerate(names, 1):
        if not name.strip():
            raise CsvError(path, f"column {number} of the header has no name", line=1)
        # Case-insensitive: MariaDB, SQLite and DuckDB would refuse "Id" beside "id".
        other = seen.setdefault(name.casefold(), number)
        if other != number:
            raise CsvError(
                path,
                f"columns {other} and {number} of the header are both named {name!r}"
                + ("" if names[other - 1] == name else " (ignoring case)"),
                line=1,
            )
    return tuple(names)
