"""A sheet's columns made into the step's schema: names matched, values cast, dates found.

Workbooks written by people disagree in small ways: ``Record Date`` in one month's report,
``record date `` in the next, a column added or left out, a date typed as text, a number
typed as ``"12"``. Each header is trimmed and matched case-insensitively to a column of
``columns`` (or a ``rename`` alias); a column the sheet lacks is all NULL; a header that
matches nothing is left out and named. Values are cast column by column in Arrow, with any
value that does not convert becoming NULL there, so a bad value is found by comparing
which cells were filled before and after: the first one names its row, which the message
gives as the spreadsheet numbers it. Excel stores a date as a number of days since
1899-12-30 (the 1900 date system) or since 1904-01-01 (the 1904 one): a number in a date
column is read in the workbook's own system (``Sheet.day_zero``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ordo.datasets.date_systems import DAY_ZERO_1900
from ordo.datasets.workbooks import BadWorkbook, Sheet
from ordo.extractors._arrow import arrow_type

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Normalised", "Schema", "normalise"]

_UNIX_EPOCH = dt.date(1970, 1, 1)
_DAY_MS = 86_400_000
_INT = r"^\s*[+-]?\d+(\.0*)?\s*$"
_FLOAT = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_TRUE, _FALSE = ("true", "yes", "y", "1", "x"), ("false", "no", "n", "0")
# Text dates always understood, after the step's own ``formats``: ISO, with or without a time
_ISO = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Schema:
    """What every sheet is made into: ``columns`` in order, with their type names."""

    columns: Mapping[str, str]
    rename: Mapping[str, str]  # alias (any case) -> a column of ``columns``
    formats: Sequence[str] = ()

    def target(self, header: str) -> str | None:
        """The column ``header`` stands for, or None."""
        key = header.strip().casefold()
        for name in self.columns:
            if name.casefold() == key:
                return name
        for alias, name in self.rename.items():
            if alias.strip().casefold() == key:
                return name
        return None

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        return pa.schema([pa.field(n, arrow_type(t)) for n, t in self.columns.items()])


@dataclass(frozen=True)
class Normalised:
    table: pa.Table
    ignored: tuple[str, ...]  # headers of the sheet that are no column of the schema
    missing: tuple[str, ...]  # columns of the schema the sheet lacks (all NULL)


def normalise(sheet: Sheet, schema: Schema) -> Normalised:
    """``sheet`` as a table of ``schema``'s columns and types, blank rows left out; raises
    ``BadWorkbook`` naming the row and column of the first value that does not cast."""
    import pyarrow as pa
    import pyarrow.compute as pc

    by_target: dict[str, str] = {}
    for header in sheet.columns:
        name = schema.target(header)
        if name is None:
            continue
        if name in by_target:
            raise BadWorkbook(
                sheet.shown,
                f"columns '{by_target[name]}' and '{header}' both stand for '{name}'",
                sheet=sheet.name,
                row=sheet.header_row,
                hint="remove one of them, or rename one to a column of its own",
            )
        by_target[name] = header
    filled = [_filled(sheet.columns[h]) for h in by_target.values()]
    if filled and sheet.rows:
        any_filled = filled[0]
        for more in filled[1:]:
            any_filled = pc.or_(any_filled, more)
        kept = pc.indices_nonzero(any_filled)  # spreadsheets end (and pause) in blank rows
    else:
        kept = pa.array([], pa.uint64())
    arrays = []
    target_schema = schema.arrow_schema()
    for field in target_schema:
        given = by_target.get(field.name)
        if given is None:
            arrays.append(pa.nulls(len(kept), field.type))
            continue
        source = sheet.columns[given]
        if len(kept) != sheet.rows:
            source = source.take(kept)
        cast = _cast_column(source, field, schema.formats, sheet, given, kept)
        arrays.append(cast)
    table = pa.Table.from_arrays(arrays, schema=target_schema)
    missing = tuple(name for name in schema.columns if name not in by_target)
    return Normalised(table, sheet.ignored, missing)


def _filled(array: pa.Array) -> pa.Array:
    """Which cells hold something: not NULL and, for text, not blank."""
    import pyarrow as pa
    import pyarrow.compute as pc

    valid = pc.is_valid(array)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        blank = pc.equal(pc.utf8_trim_whitespace(array), "")
        valid = pc.and_(valid, pc.invert(pc.fill_null(blank, False)))
    return valid


def _cast_column(
    source: pa.Array,
    field: pa.Field,
    formats: Sequence[str],
    sheet: Sheet,
    header: str,
    kept: pa.Array,
) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    target = field.type
    if pa.types.is_string(source.type):
        blank = pc.equal(pc.utf8_trim_whitespace(source), "")
        source = pc.if_else(pc.fill_null(blank, False), pa.scalar(None, pa.string()), source)
    result = convert(source, target, formats, sheet.day_zero)
    lost = pc.and_(pc.is_valid(source), pc.is_null(result))
    if pc.any(lost).as_py():
        index = pc.indices_nonzero(lost)[0].as_py()
        value = source[index].as_py()
        row = sheet.row_number(kept[index].as_py())
        raise BadWorkbook(
            sheet.shown,
            f"{_shown(value)} is not a {_type_word(target)}",
            sheet=sheet.name,
            row=row,
            column=header,
            hint=_hint(target, field.name),
        )
    return result


def convert(
    source: pa.Array,
    target: pa.DataType,
    formats: Sequence[str] = (),
    day_zero: dt.date = DAY_ZERO_1900,
) -> pa.Array:
    """``source`` as ``target``; a value that does not convert is NULL. A number made a
    date counts days from ``day_zero`` (the workbook's date system)."""
    import pyarrow as pa

    kind = source.type
    if kind == target:
        return source
    if pa.types.is_null(kind):
        return pa.nulls(len(source), target)
    if pa.types.is_string(target) or pa.types.is_large_string(target):
        return _to_text(source).cast(target)
    if pa.types.is_integer(target):
        return _to_int(source).cast(target)
    if pa.types.is_floating(target):
        return _to_float(source).cast(target)
    if pa.types.is_boolean(target):
        return _to_bool(source)
    if pa.types.is_date(target) or pa.types.is_timestamp(target) or pa.types.is_time(target):
        return _to_moment(source, target, formats, day_zero)
    if pa.types.is_decimal(target):
        return _to_decimal(source, target)
    return _elementwise(source, target)


def _to_text(source: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(source.type):
        return pc.strftime(source, "%Y-%m-%d %H:%M:%S")
    if pa.types.is_boolean(source.type):
        return pc.if_else(source, "true", "false")
    return source.cast(pa.string())  # a float 7.0 is "7", as a spreadsheet shows it


def _to_int(source: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(source.type) or pa.types.is_boolean(source.type):
        return source.cast(pa.int64())
    if pa.types.is_string(source.type):
        source = pc.if_else(pc.match_substring_regex(source, _INT), source, None)
        source = _elementwise(source, pa.float64())
    if pa.types.is_floating(source.type):
        whole = pc.and_(pc.equal(source, pc.floor(source)), pc.less(pc.abs(source), 2.0**63))
        return pc.if_else(whole, source, None).cast(pa.int64())
    return pa.nulls(len(source), pa.int64())


def _to_float(source: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(source.type) or pa.types.is_floating(source.type):
        return source.cast(pa.float64())
    if pa.types.is_string(source.type):
        source = pc.if_else(pc.match_substring_regex(source, _FLOAT), source, None)
        return _elementwise(source, pa.float64())
    return pa.nulls(len(source), pa.float64())


def _to_bool(source: pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_integer(source.type) or pa.types.is_floating(source.type):
        return pc.if_else(pc.equal(source, 1), True, pc.if_else(pc.equal(source, 0), False, None))
    if pa.types.is_string(source.type):
        word = pc.utf8_lower(pc.utf8_trim_whitespace(source))
        yes = pc.is_in(word, pa.array(_TRUE))
        no = pc.is_in(word, pa.array(_FALSE))
        return pc.if_else(yes, True, pc.if_else(no, False, None))
    return pa.nulls(len(source), pa.bool_())


def _to_moment(
    source: pa.Array, target: pa.DataType, formats: Sequence[str], day_zero: dt.date
) -> pa.Array:
    """A date, timestamp or time from a date-time cell, an Excel serial number, or text in
    one of ``formats`` (then ISO)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    stamp = pa.timestamp("us")
    # A time alone is a fraction of a day; in the 1900 system a date starts at 1 (its 0 is
    # Excel's "1900-01-00"), in the 1904 one at 0 (1904-01-01)
    lowest = 0 if pa.types.is_time(target) or day_zero != DAY_ZERO_1900 else 1
    if pa.types.is_timestamp(source.type) or pa.types.is_date(source.type):
        moment = source.cast(stamp) if source.type.tz is None else source
    elif pa.types.is_integer(source.type) or pa.types.is_floating(source.type):
        moment = _from_serial(source.cast(pa.float64()), day_zero, lowest)
    elif pa.types.is_string(source.type):
        text = pc.utf8_trim_whitespace(source)
        moment = pa.nulls(len(source), stamp)
        for pattern in (*formats, *_ISO):
            parsed = pc.strptime(text, format=pattern, unit="us", error_is_null=True)
            moment = pc.coalesce(moment, parsed)
        numeric = pc.if_else(pc.match_substring_regex(text, _FLOAT), text, None)
        serial = _from_serial(_elementwise(numeric, pa.float64()), day_zero, lowest)
        moment = pc.coalesce(moment, serial)
    else:
        return pa.nulls(len(source), target)
    if pa.types.is_timestamp(target) and target.tz is not None and moment.type.tz is None:
        moment = pc.assume_timezone(moment, "UTC")
    if pa.types.is_date(target):
        if moment.type.tz is not None:
            moment = pc.local_timestamp(moment)
        return pc.floor_temporal(moment, unit="day").cast(target, safe=False)
    if pa.types.is_time(target):
        start = pc.floor_temporal(moment, unit="day")
        micros = pc.subtract(moment.cast(pa.int64()), start.cast(pa.int64()))
        return micros.cast(pa.time64("us")).cast(target)
    return moment.cast(target)


def _from_serial(days: pa.Array, day_zero: dt.date, lowest: int = 1) -> pa.Array:
    """Excel serial dates (days since ``day_zero``, the time as a fraction) as timestamps."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Below ``lowest`` is no date; nor is anything after 9999-12-31 (serial 2,958,465 in
    # the 1900 system)
    after_last = (dt.date(9999, 12, 31) - day_zero).days + 1
    fits = pc.and_(pc.greater_equal(days, lowest), pc.less(days, after_last))
    days = pc.if_else(fits, days, None)
    # to the millisecond, as Excel keeps times (a float of days cannot hold microseconds)
    unix_epoch = (_UNIX_EPOCH - day_zero).days  # 25,569 in the 1900 system
    millis = pc.round(pc.multiply(pc.subtract(days, unix_epoch), float(_DAY_MS)))
    return pc.multiply(millis.cast(pa.int64()), 1000).cast(pa.timestamp("us"))


def _to_decimal(source: pa.Array, target: pa.DataType) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(source.type):
        source = pc.round(source, target.scale)
    elif pa.types.is_string(source.type):
        source = pc.if_else(pc.match_substring_regex(source, _FLOAT), source, None)
        try:
            return source.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _text_decimals(source, target)  # more places than the scale: rounded
    return _elementwise(source, target)


def _text_decimals(source: pa.Array, target: pa.DataType) -> pa.Array:
    """Numbers written as text rounded half-even to the scale, as a float would be."""
    import decimal

    import pyarrow as pa

    step = decimal.Decimal(1).scaleb(-target.scale)
    values: list[decimal.Decimal | None] = []
    for text in source.to_pylist():
        try:
            values.append(None if text is None else decimal.Decimal(text.strip()).quantize(step))
        except decimal.InvalidOperation:
            values.append(None)
    return _elementwise(pa.array(values, pa.decimal128(38, target.scale)), target)


def _elementwise(source: pa.Array, target: pa.DataType) -> pa.Array:
    """``source`` cast to ``target`` at once, else value by value with failures as NULL."""
    import pyarrow as pa

    try:
        return source.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    values: list[Any] = []
    for value in source:
        try:
            values.append(pa.array([value.as_py()], source.type).cast(target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            values.append(None)
    return pa.array(values, target)


def _type_word(target: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_integer(target):
        return "whole number"
    if pa.types.is_floating(target) or pa.types.is_decimal(target):
        return "number"
    if pa.types.is_boolean(target):
        return "true/false value"
    if pa.types.is_date(target):
        return "date"
    if pa.types.is_timestamp(target):
        return "date and time"
    if pa.types.is_time(target):
        return "time of day"
    return str(target)


def _hint(target: pa.DataType, column: str) -> str:
    import pyarrow as pa

    if pa.types.is_date(target) or pa.types.is_timestamp(target):
        return (
            "correct the cell, or add its format to formats: (e.g. formats: ['%d/%m/%Y']); "
            "set on_bad_file: skip to leave such files out"
        )
    return (
        f"correct the cell, or declare {column} as string in columns:; "
        "set on_bad_file: skip to leave such files out"
    )


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    return repr(value)
