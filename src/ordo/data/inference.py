"""Column types from CSV text: the narrowest faithful type of each column, or the declared one.

Without ``column_types`` a column is, in this order of preference: integer (``bigint``), exact
decimal (``numeric`` with the largest scale seen; never a float), boolean (``true``/``false``,
any case), ISO date, ISO timestamp (all values with a zone, or all without), else text. A
value with a leading zero (``00123``; ``0`` and ``0.5`` are numbers) or a column mixing
kinds is text, so every value loads exactly as written. NULL markers are left out first.

Speed matters (a seed of 200,000 rows is read and typed on every run), so a column is tested
with whole-column string operations that run in C (``str.isdigit`` on the joined values,
``count``, one ``re.search`` for what must not occur, ``date.fromisoformat`` mapped over the
values) rather than a Python loop per value; only the kind its first value suggests is tested,
and testing stops at the first kind that fails.

A declared type (``column_types``) is used verbatim for the table; values are checked against
what it says where ordo understands the type (integers, ``numeric(p,s)``, booleans, dates,
timestamps, ``varchar(n)``), so a value that does not fit is an error naming its line,
column and value before any table is touched.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ordo.data.types import ColumnType, TypeKind

__all__ = ["BadValue", "declared_type", "first_bad_value", "infer_type", "python_values"]

MAX_PRECISION = 38  # the widest decimal DuckDB, SQL Server and Oracle take
_INT_DIGITS = 18  # always fits a 64-bit integer
_MINUTES = len("2024-01-31T12:30")
_TEXT = ColumnType(TypeKind.TEXT)

_LEADING_ZERO = re.compile(r"(?m)^-?0[0-9]")
_TWO_DOTS = re.compile(r"\.[^\n]*\.")
_FRACTIONS = re.compile(r"\.([0-9]+)")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WALL_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
_NAIVE_TIMESTAMP = re.compile(_WALL_TIME)
_TIMESTAMP = re.compile(_WALL_TIME + r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?")
_FLOAT = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:[+-]?(?:inf|nan))"
)
_BOOLEANS = {"true": True, "false": False}


class BadValue(ValueError):
    """A value that does not fit its column's declared type: which value (0-based index among
    the column's values), and the value."""

    def __init__(self, index: int, value: str, type_sql: str) -> None:
        super().__init__(f"value {value!r} does not fit the declared type {type_sql}")
        self.index, self.value, self.type_sql = index, value, type_sql


def infer_type(values: Sequence[str], nulls: Collection[str]) -> ColumnType:
    """The narrowest faithful type for a column of CSV ``values`` (``nulls`` left out)."""
    present = _present(values, nulls)
    if not present:
        return _TEXT
    first = present[0]
    if _INTEGER.fullmatch(first) or _DECIMAL.fullmatch(first):
        return _numeric(present)
    if first.lower() in _BOOLEANS:
        return ColumnType(TypeKind.BOOLEAN) if _all_booleans(present) else _TEXT
    if _DATE.fullmatch(first):
        return ColumnType(TypeKind.DATE) if _all_dates(present) else _TEXT
    if _TIMESTAMP.fullmatch(first):
        return _timestamps(present)
    return _TEXT


def _present(values: Sequence[str], nulls: Collection[str]) -> list[str]:
    if not nulls:
        return list(values)
    if len(nulls) == 1 and "" in nulls:
        return list(filter(None, values))  # in C: the common case
    return [value for value in values if value not in nulls]


def _numeric(values: list[str]) -> ColumnType:
    shortest, longest = min(map(len, values)), max(map(len, values))
    if not shortest:
        return _TEXT  # an empty string kept as a value (``empty_string: keep``)
    joined = "\n".join(values)
    digits = joined.replace("\n", "").replace("-", "").replace(".", "")
    if not (digits.isascii() and digits.isdigit()):
        return _TEXT
    lines = "\n" + joined
    if joined.count("-") != lines.count("\n-") or "-\n" in lines + "\n" or "\n-." in lines:
        return _TEXT  # a sign not in front, or a sign alone
    if _LEADING_ZERO.search(joined):
        return _TEXT  # 00123, 01.5: text, as written
    if "." not in joined:
        if longest <= _INT_DIGITS:
            return ColumnType(TypeKind.INTEGER)
        return _decimal(longest, 0)
    if "\n." in lines or ".\n" in joined + "\n" or _TWO_DOTS.search(joined):
        return _TEXT  # .5, 5. and 1.2.3 are not numbers here
    scale = max(map(len, _FRACTIONS.findall(joined)))
    return _decimal(longest, scale)


def _decimal(longest: int, scale: int) -> ColumnType:
    """``longest`` (the longest value's length) bounds the integer digits from above."""
    precision = max(_INT_DIGITS, longest) + scale
    if precision > MAX_PRECISION:
        if longest > MAX_PRECISION:
            return _TEXT
        precision = MAX_PRECISION
    return ColumnType(TypeKind.DECIMAL, precision=precision, scale=scale)


def _all_booleans(values: list[str]) -> bool:
    lowered = "\n".join(values).lower() + "\n"
    true, false = lowered.count("true\n"), lowered.count("false\n")
    return true + false == len(values) and len(lowered) == 5 * true + 6 * false


def _all_dates(values: list[str]) -> bool:
    if set(map(len, values)) != {10}:
        return False
    joined = "\n".join(values) + "\n"
    if set(joined[4::11]) != {"-"} or set(joined[7::11]) != {"-"}:
        return False
    try:
        list(map(dt.date.fromisoformat, values))
    except ValueError:
        return False
    return True


def _timestamps(values: list[str]) -> ColumnType:
    # The first 16 characters must be YYYY-MM-DD?HH:MM (checked on the joined prefixes,
    # in C); fromisoformat then checks the rest and that each is a real time.
    if min(map(len, values)) < _MINUTES:
        return _TEXT
    heads = "".join(map(operator.itemgetter(slice(0, _MINUTES)), values))
    if set(heads[4::_MINUTES]) | set(heads[7::_MINUTES]) != {"-"}:
        return _TEXT
    if not set(heads[10::_MINUTES]) <= {"T", " "} or set(heads[13::_MINUTES]) != {":"}:
        return _TEXT
    try:
        parsed = list(map(dt.datetime.fromisoformat, values))
    except ValueError:
        return _TEXT
    zones = set(map(operator.attrgetter("tzinfo"), parsed))
    if None not in zones:
        return ColumnType(TypeKind.TIMESTAMPTZ)
    return ColumnType(TypeKind.TIMESTAMP) if zones == {None} else _TEXT


# -- declared types -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Declared:
    kind: TypeKind
    pattern: re.Pattern[str] | None  # what a value must match; None: the database checks
    precision: int | None = None
    scale: int | None = None


_DECLARED_NAME = re.compile(
    r"\s*([A-Za-z][A-Za-z0-9_]*(?: [A-Za-z][A-Za-z0-9_]*)*)\s*(?:\(\s*([0-9, ]+)\s*\))?(.*)",
    re.DOTALL,
)
_INTEGER_NAMES = frozenset(
    {"int", "integer", "bigint", "smallint", "tinyint", "mediumint", "int2", "int4", "int8"}
)
_DECIMAL_NAMES = frozenset({"numeric", "decimal", "number", "dec"})
_TEXT_NAMES = frozenset({"varchar", "character varying", "char", "character", "nvarchar"})
_TIMESTAMPTZ_NAMES = frozenset({"timestamptz", "timestamp with time zone", "datetimeoffset"})
_SIMPLE: dict[str, _Declared] = {
    "boolean": _Declared(TypeKind.BOOLEAN, re.compile(r"(?i:true|false|t|f|1|0)")),
    "bool": _Declared(TypeKind.BOOLEAN, re.compile(r"(?i:true|false|t|f|1|0)")),
    "date": _Declared(TypeKind.DATE, _DATE),
    "timestamp": _Declared(TypeKind.TIMESTAMP, _NAIVE_TIMESTAMP),
    "datetime": _Declared(TypeKind.TIMESTAMP, _NAIVE_TIMESTAMP),
    "datetime2": _Declared(TypeKind.TIMESTAMP, _NAIVE_TIMESTAMP),
    "timestamp without time zone": _Declared(TypeKind.TIMESTAMP, _NAIVE_TIMESTAMP),
    "double precision": _Declared(TypeKind.FLOAT, _FLOAT),
    "double": _Declared(TypeKind.FLOAT, _FLOAT),
    "float": _Declared(TypeKind.FLOAT, _FLOAT),
    "real": _Declared(TypeKind.FLOAT, _FLOAT),
}


def declared_type(sql: str) -> tuple[ColumnType, re.Pattern[str] | None]:
    """A user's declared SQL type, and the pattern its values must match (``None``: no
    check here; the database checks them as it loads)."""
    match = _DECLARED_NAME.fullmatch(sql)
    if match is None:
        return ColumnType(TypeKind.TEXT, declared=sql), None
    name = " ".join(match.group(1).lower().split())
    numbers = [int(n) for n in (match.group(2) or "").replace(" ", "").split(",") if n]
    found = _declared(name, numbers)
    column_type = ColumnType(found.kind, found.precision, found.scale, declared=sql)
    return column_type, found.pattern


def _declared(name: str, numbers: list[int]) -> _Declared:
    if name in _INTEGER_NAMES:
        return _Declared(TypeKind.INTEGER, re.compile(r"[+-]?[0-9]+"))
    if name in _DECIMAL_NAMES:
        if not numbers:
            return _Declared(TypeKind.DECIMAL, re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"))
        precision, scale = numbers[0], numbers[1] if len(numbers) > 1 else 0
        whole = f"[0-9]{{1,{precision - scale}}}" if precision > scale else "0?"
        fraction = f"(?:\\.[0-9]{{0,{scale}}})?" if scale else r"\.?"
        pattern = re.compile(f"[+-]?(?:{whole}{fraction})")
        return _Declared(TypeKind.DECIMAL, pattern, precision, scale)
    if name in _TEXT_NAMES and numbers:
        return _Declared(TypeKind.TEXT, re.compile(f"(?s:.{{0,{numbers[0]}}})"))
    if name in _TIMESTAMPTZ_NAMES:
        return _Declared(TypeKind.TIMESTAMPTZ, _TIMESTAMP)
    return _SIMPLE.get(name, _Declared(TypeKind.TEXT, None))


def first_bad_value(
    values: Sequence[str], nulls: Collection[str], pattern: re.Pattern[str], type_sql: str
) -> BadValue | None:
    """The first value (not a NULL marker) that ``pattern`` does not match, as an error."""
    match = pattern.fullmatch
    if all(value in nulls or match(value) for value in values):
        return None
    for index, value in enumerate(values):
        if value not in nulls and not match(value):
            return BadValue(index, value, type_sql)
    return None  # pragma: no cover - all() said one fails


# -- Python values --------------------------------------------------------------------------


def _boolean(value: str) -> bool:
    return value.lower() in ("true", "t", "1")


_CONVERT: dict[TypeKind, Callable[[str], object]] = {
    TypeKind.INTEGER: int,
    TypeKind.DECIMAL: Decimal,
    TypeKind.BOOLEAN: _boolean,
    TypeKind.DATE: dt.date.fromisoformat,
    TypeKind.TIMESTAMP: dt.datetime.fromisoformat,
    TypeKind.TIMESTAMPTZ: dt.datetime.fromisoformat,
    TypeKind.FLOAT: float,
}


def python_values(values: Sequence[str], type: ColumnType, nulls: Collection[str]) -> list[object]:
    """The column's values as Python values for ``insert_rows`` (NULL markers as ``None``).

    A declared type ordo does not know (``uuid``, ``json``) keeps the text: the database
    reads it as it would read the CSV."""
    convert = _CONVERT.get(type.kind) if type.kind is not TypeKind.TEXT else None
    if type.declared and type.kind is TypeKind.TEXT:
        convert = None
    if convert is None:
        return [None if value in nulls else value for value in values]
    return [None if value in nulls else convert(value) for value in values]
