"""A large seed read and typed with pyarrow (in C++), when the data extra is installed.

The standard library's path (``csv`` and ``ordo.data.inference``) costs about a second for
200,000 rows by 10 columns, most of a seed step; Arrow's CSV reader and compute kernels do the
same work in a fraction of it. Both paths must give the same table, the same types and the
same errors, so this one decides only what it can decide exactly as the other would, and hands
everything else back:

- the file's quoting is checked first against the grammar the standard library's strict
  reader accepts (one RE2 match over the text, in C++); blank lines, NUL characters, a single
  column, and any file Arrow cannot read (ragged rows) go the standard library's way, which
  then says what is wrong with the line;
- a column is typed here only where the test is the same one: integers and exact decimals
  (one pattern that is exactly the standard path's rules), booleans, ISO dates and ISO
  timestamps (checked by Arrow's parser, which refuses the 30th of February and 25:00 as
  ``fromisoformat`` does; the two differ only on year 0 and on a zone's minutes past 59,
  which go back); a declared type, or anything a kernel cannot settle, is typed by
  ``ordo.data.inference`` from its values, as before.

Small files never come here: importing pyarrow costs more than it saves below about 1 MB.
"""

from __future__ import annotations

import importlib.util
import os
import re
import struct
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ordo.data.inference import MAX_PRECISION
from ordo.data.types import ColumnType, TypeKind

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.csv_files import CsvFile

__all__ = ["MIN_BODY", "ArrowValues", "read_typed"]

MIN_BODY = 1 << 20  # characters of data: below it the standard library is faster

_INT_DIGITS = 18  # as ordo.data.inference: always fits a 64-bit integer
_TEXT = ColumnType(TypeKind.TEXT)
_NUMBER = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$"  # inference._numeric's rules, as one pattern
_INTEGER_OR_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# inference._TIMESTAMP, anchored, its zone a group of its own
_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?P<zone>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)


class ArrowValues:
    """A seed's text, column by column, as Arrow arrays; Python strings only when a backend
    without a bulk loader of its own needs them (``insert_rows``)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def as_tuples(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(column.to_pylist()) for column in self.table.columns)

    def typed(self, types: Sequence[ColumnType], nulls: Collection[str]) -> pa.Table | None:
        """The text as values of ``types``, NULL where a field is one of ``nulls``; None when
        a type has no Arrow form here (a declared one is the database's to read) or a value
        does not cast as the database would read its text (a declared decimal with more
        places than its scale: the database rounds, Arrow refuses), and the text must go."""
        import pyarrow as pa
        import pyarrow.compute as pc

        markers = pa.array(sorted(nulls), pa.string()) if nulls else None
        columns = []
        for text, type in zip(self.table.columns, types, strict=True):
            arrow = _arrow_type(type)
            if arrow is None:
                return None
            values = text if markers is None else pc.if_else(pc.is_in(text, markers), None, text)
            try:
                columns.append(values.cast(arrow))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
        return pa.table(columns, names=self.table.column_names)


def _arrow_type(type: ColumnType) -> pa.DataType | None:
    import pyarrow as pa

    if type.declared:
        return None
    if type.kind is TypeKind.DECIMAL:
        precision = type.precision or MAX_PRECISION
        return pa.decimal128(precision, type.scale or 0) if precision <= 38 else None
    made = {
        TypeKind.INTEGER: pa.int64,
        TypeKind.BOOLEAN: pa.bool_,
        TypeKind.DATE: pa.date32,
        TypeKind.TEXT: pa.string,
    }.get(type.kind)
    if made is not None:
        return made()
    if type.kind is TypeKind.TIMESTAMP:
        return pa.timestamp("us")
    if type.kind is TypeKind.TIMESTAMPTZ:
        return pa.timestamp("us", tz="UTC")
    return None


def read_typed(
    file: CsvFile,
    declared: Mapping[str, str],
    typed_by_values: Callable[[str, tuple[str, ...], str | None], ColumnType],
) -> tuple[tuple[ColumnType, ...], ArrowValues] | None:
    """The columns' types and text of ``file``, or None when the standard library's path
    must read it (too small, no pyarrow, or something only that path can say exactly).

    ``typed_by_values`` is that path's typing of one column from its values (with its declared
    type, if any), for the columns typed here by their values too."""
    if not _eligible(file):
        return None
    table = _parse(file)
    if table is None:
        return None
    nulls = file.format.nulls

    def settled(index: int) -> ColumnType | None:
        name = file.header[index]
        return None if name in declared else _settled(table.column(index), nulls)

    # Arrow's kernels run one column on one core and let go of the GIL: with a column per
    # thread, reading a million-row file of ten columns took 1.1-1.3 s on two cores, where
    # one column after the other took 1.5-1.9 s
    with ThreadPoolExecutor(min(len(file.header), os.cpu_count() or 1)) as pool:
        found_by_kernels = list(pool.map(settled, range(len(file.header))))
    types = [
        found or typed_by_values(name, tuple(column.to_pylist()), declared.get(name))
        for name, column, found in zip(file.header, table.columns, found_by_kernels, strict=True)
    ]
    return tuple(types), ArrowValues(table)


def _eligible(file: CsvFile) -> bool:
    if len(file.body) < MIN_BODY or len(file.header) < 2:  # one column: a blank line is a row
        return False
    return importlib.util.find_spec("pyarrow") is not None


def _grammar(delimiter: str, quote: str) -> str:
    """The text the standard library's strict reader accepts, as rows each ending in a line
    break: a field is quoted (doubled quotes inside, any line break too) and followed by a
    delimiter or the line's end, or unquoted (no delimiter or line break, no quote first).
    Every row holds a delimiter (there are two columns or more), so a blank line does not
    pass; nor does a NUL character. Either goes the standard library's way."""
    d, q = re.escape(delimiter), re.escape(quote)
    field = f"(?:{q}(?:[^{q}\\x00]|{q}{q})*{q}|[^{q}{d}\\r\\n\\x00][^{d}\\r\\n\\x00]*|)"
    return f"(?s)^(?:{field}(?:{d}{field})+(?:\\r\\n|\\n|\\r))*$"


def _parse(file: CsvFile) -> pa.Table | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pa_csv

    format = file.format
    # The text once as UTF-8, seen by the grammar as one string and read by the CSV reader,
    # without a copy for each (a copy of a 100 MB file costs more than the check)
    data = pa.py_buffer(file.body.encode("utf-8"))
    offsets = pa.py_buffer(struct.pack("<qq", 0, data.size))
    body = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, data])
    if not pc.match_substring_regex(body, _grammar(format.delimiter, format.quote))[0].as_py():
        return None  # strict quoting broken somewhere: the standard path says where
    try:
        return pa_csv.read_csv(
            data,
            read_options=pa_csv.ReadOptions(column_names=list(file.header)),
            parse_options=pa_csv.ParseOptions(
                delimiter=format.delimiter,
                quote_char=format.quote,
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in file.header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None  # a ragged row: the standard path names its line


def _settled(column: pa.ChunkedArray, nulls: Collection[str]) -> ColumnType | None:
    """The column's type where a kernel decides it exactly as ``infer_type`` would; None
    where its values must decide (timestamps, and whatever looks unusual)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    present = column
    if nulls:
        present = column.filter(pc.invert(pc.is_in(column, pa.array(sorted(nulls)))))
    if len(present) == 0:
        return _TEXT
    first = present[0].as_py()
    if _INTEGER_OR_DECIMAL.fullmatch(first):
        if not pc.all(pc.match_substring_regex(present, _NUMBER)).as_py():
            return _TEXT  # as inference._numeric: a column mixing kinds is text
        return _numeric(present)
    if first.lower() in ("true", "false"):
        lowered = pc.utf8_lower(present)
        every = pc.all(pc.is_in(lowered, pa.array(["true", "false"]))).as_py()
        return ColumnType(TypeKind.BOOLEAN) if every else _TEXT
    if _DATE_START.fullmatch(first):
        return _dates(present)
    if _DATE_START.match(first):
        return _timestamps(present)
    return _TEXT  # as infer_type: a first value of no other kind makes the column text


def _numeric(present: pa.ChunkedArray) -> ColumnType:
    import pyarrow.compute as pc

    longest = pc.max(pc.utf8_length(present)).as_py()
    dots = pc.find_substring(present, ".")
    with_dot = pc.greater_equal(dots, 0)
    if not pc.any(with_dot).as_py():
        return ColumnType(TypeKind.INTEGER) if longest <= _INT_DIGITS else _decimal(longest, 0)
    lengths = pc.utf8_length(present.filter(with_dot))
    scale = pc.max(pc.subtract(pc.subtract(lengths, dots.filter(with_dot)), 1)).as_py()
    return _decimal(longest, scale)


def _decimal(longest: int, scale: int) -> ColumnType:
    precision = max(_INT_DIGITS, longest) + scale
    if precision > MAX_PRECISION:
        if longest > MAX_PRECISION:
            return _TEXT
        precision = MAX_PRECISION
    return ColumnType(TypeKind.DECIMAL, precision=precision, scale=scale)


def _dates(present: pa.ChunkedArray) -> ColumnType | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pc.all(pc.match_substring_regex(present, _ISO_DATE)).as_py():
        return None  # not all in the one form: the values decide
    if pc.min(present).as_py() < "0001":
        return None  # year 0, which Arrow takes and Python does not
    try:
        pc.cast(present, pa.date32())
    except pa.ArrowInvalid:
        return _TEXT  # a day that does not exist (2023-02-29): as date.fromisoformat says
    return ColumnType(TypeKind.DATE)


def _timestamps(present: pa.ChunkedArray) -> ColumnType | None:
    """As ``inference._timestamps``: every value a real time, all with a zone or all
    without. Arrow's parser and ``datetime.fromisoformat`` agree on this form but for a
    year 0 and a zone's minutes past 59, which go back to the values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = pc.extract_regex(present, _TIMESTAMP)  # null where the form does not match
    if parts.null_count:
        return None
    if pc.min(present).as_py() < "0001":
        return None
    zones = pc.struct_field(parts, "zone")
    if any(_odd_zone(zone) for zone in pc.unique(zones).to_pylist()):
        return None
    zoned = pc.sum(pc.not_equal(zones, "")).as_py() or 0
    if 0 < zoned < len(present):
        return _TEXT  # some with a zone, some without
    target = pa.timestamp("us", tz="UTC") if zoned else pa.timestamp("us")
    try:
        pc.cast(present, target)
    except pa.ArrowInvalid:
        return _TEXT  # a time that does not exist (25:00, the 30th of February)
    return ColumnType(TypeKind.TIMESTAMPTZ if zoned else TypeKind.TIMESTAMP)


def _odd_zone(zone: str) -> bool:
    """A zone of 24 hours or more, or of 60 minutes or more (``+01``, ``+0130``, ``+01:30``)."""
    if zone in ("", "Z"):
        return False
    minutes = zone[-2:] if len(zone) > 3 else "0"
    return int(zone[1:3]) > 23 or int(minutes) > 59
