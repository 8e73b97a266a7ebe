"""Running a step's checks on the unit's connection, inside its transaction.

Names are found in the catalog first (SQLAlchemy's inspector, on the same connection, so a
table the group created moments ago is seen): a missing table or column is an ``error``
outcome with a did-you-mean, found without sending a failing query. Each check then runs in a
savepoint where the database has them, so one check's SQL error (a typo in an ``expression``)
does not end the transaction for the checks after it. DuckDB has no savepoints and aborts the
whole transaction on an error: the checks after one are reported as not run, and the step
fails, since its transaction can no longer commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ordo._hints import did_you_mean
from ordo.checks.judging import CheckResult, judge_rows, plain
from ordo.checks.model import CheckBase, Freshness, Relationships, RowCount, SqlCheck
from ordo.checks.queries import CheckQuery, Names, compile_check
from ordo.db.dialects.names import NamePart, TableName
from ordo.errors import PermanentError

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine.reflection import Inspector

    from ordo.db.dialects import Dialect
    from ordo.masking import Masker

__all__ = ["NamedCheck", "run_checks"]


@dataclass(frozen=True)
class NamedCheck:
    name: str
    check: CheckBase


class _NotFound(Exception):
    """A table or column the check names is not in the catalog."""


def run_checks(
    conn: Connection,
    dialect: Dialect,
    checks: Sequence[NamedCheck],
    *,
    masker: Masker,
    timeout: float | None = None,
) -> list[CheckResult]:
    """Each check's result, in order. A transient failure (a lost connection) is raised, so
    the runner retries the unit; any other failure is that check's ``error`` outcome."""
    from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

    catalog = _Catalog(conn, dialect)
    results: list[CheckResult] = []
    broken: str | None = None  # no savepoints: the check whose error ended the transaction
    with dialect.statement_timeout(conn, timeout):
        for named in checks:
            if broken is not None:
                results.append(_result(named, "error", f"not run: {broken}"))
                continue
            try:
                with database_errors(masker=masker, timeout=timeout):
                    names = catalog.names(named.check)
                    with _savepoint(conn, dialect):
                        results.append(_run(conn, dialect, named, names))
            except _NotFound as exc:
                results.append(_result(named, "error", str(exc)))
            except PermanentError as exc:
                results.append(_result(named, "error", masker.mask(exc.message)))
                if not dialect.supports_savepoints:
                    broken = (
                        f"check '{named.name}' failed with an error, which ends the "
                        "transaction on this database (it has no savepoints)"
                    )
    return results


def _result(named: NamedCheck, outcome: Any, message: str, **found: Any) -> CheckResult:
    return CheckResult(
        name=named.name,
        type=named.check.type,
        severity=named.check.severity,
        outcome=outcome,
        message=message,
        **found,
    )


@contextmanager
def _savepoint(conn: Connection, dialect: Dialect) -> Iterator[None]:
    if not dialect.supports_savepoints:
        yield
        return
    with conn.begin_nested():
        yield


def _run(conn: Connection, dialect: Dialect, named: NamedCheck, names: Names) -> CheckResult:
    check = named.check
    query = compile_check(check, names, dialect)
    rows = dialect.execute(conn, query.counts).rows or [()]
    row = rows[0]
    if isinstance(check, RowCount):
        return _row_count(named, check, row)
    if isinstance(check, Freshness):
        return _freshness(named, check, row[0])
    failing = int(row[-1] or 0)
    total = None if isinstance(check, SqlCheck) else int(row[0] or 0)
    outcome, message = judge_rows(check, failing, total)
    sample: tuple[dict[str, Any], ...] = ()
    if outcome != "pass" and check.sample:
        sample = _sample(conn, dialect, query, check.sample)
    return _result(named, outcome, message, failing=failing, total=total, sample=sample)


def _sample(
    conn: Connection, dialect: Dialect, query: CheckQuery, size: int
) -> tuple[dict[str, Any], ...]:
    if query.failing_rows is None:
        return ()
    found = dialect.execute(conn, dialect.limit_rows(query.failing_rows, size))
    columns = found.columns or ()
    return tuple(
        {column: plain(value) for column, value in zip(columns, row, strict=False)}
        for row in found.rows or ()
    )


def _row_count(named: NamedCheck, check: RowCount, row: Sequence[Any]) -> CheckResult:
    count = int(row[0] or 0)
    said = f"{count:,} {'row' if count == 1 else 'rows'}"
    wrong = []
    if check.min is not None and count < check.min:
        wrong.append(f"fewer than min {check.min:,}")
    if check.max is not None and count > check.max:
        wrong.append(f"more than max {check.max:,}")
    if check.equal_to is not None:
        other = int(row[1] or 0)
        if other != count:
            wrong.append(f"but {check.equal_to} has {other:,}")
    if wrong:
        return _result(named, "fail", f"{said}, {', '.join(wrong)}", total=count)
    return _result(named, "pass", said, total=count)


def _freshness(named: NamedCheck, check: Freshness, newest: Any) -> CheckResult:
    if newest is None:
        return _result(named, "fail", f"no {check.column} value at all: nothing is fresh")
    zone = ZoneInfo(check.timezone)
    try:
        when = _as_datetime(newest, zone)
    except ValueError:
        return _result(named, "error", f"{check.column}'s newest value {newest!r} is not a time")
    age = dt.datetime.now(dt.UTC) - when
    said = f"newest {check.column} {when.isoformat(sep=' ')} is {_age(age)} old"
    if age > check.max_age:
        return _result(named, "fail", f"{said}, more than max_age {_age(check.max_age)}")
    return _result(named, "pass", said)


def _as_datetime(value: Any, zone: ZoneInfo) -> dt.datetime:
    if isinstance(value, str):  # SQLite keeps times as text
        value = dt.datetime.fromisoformat(value.strip())
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), zone)
    raise ValueError(value)


def _age(age: dt.timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")]
    shown = "".join(f"{n}{unit}" for n, unit in parts if n)
    return shown or "0s"


class _Catalog:
    """Tables and columns as stored, read once per step."""

    def __init__(self, conn: Connection, dialect: Dialect) -> None:
        from sqlalchemy import inspect

        self._conn, self._dialect = conn, dialect
        self._inspector: Inspector = inspect(conn)
        self._tables: dict[str | None, list[str]] = {}
        self._columns: dict[tuple[str | None, str], list[str]] = {}

    def names(self, check: CheckBase) -> Names:
        if isinstance(check, SqlCheck):
            return Names()
        table_text: str = getattr(check, "table")  # noqa: B009 - every other check has one
        schema, table, quoted = self._table(table_text)
        columns = {
            name: self._column(schema, table, table_text, name) for name in check.columns_named()
        }
        other = field = ""
        if isinstance(check, Relationships):
            to_schema, to_table, other = self._table(check.to)
            field = self._column(to_schema, to_table, check.to, check.field)
        elif isinstance(check, RowCount) and check.equal_to is not None:
            other = self._table(check.equal_to)[2]
        return Names(table=quoted, columns=columns, other=other, field=field)

    def _table(self, text: str) -> tuple[str | None, str, str]:
        """``(schema, stored name, quoted for SQL)`` of the table or view ``text`` names."""
        dialect = self._dialect
        name = dialect.parse_table_name(text)
        schema = None
        if name.schema is not None:
            part = name.schema
            schema = part.text if part.quoted else dialect.fold(part.text)
        if schema not in self._tables:
            self._tables[schema] = self._relations(schema)
        stored = _match(name.table, self._tables[schema], dialect)
        if stored is None:
            where = f" in schema {schema}" if schema else ""
            hint = did_you_mean(name.table.text, self._tables[schema], "check its name")
            raise _NotFound(f"table '{text}' not found{where} ({hint})")
        table = TableName(NamePart(stored, quoted=True), name.schema)
        return schema, stored, dialect.quote_table(table)

    def _relations(self, schema: str | None) -> list[str]:
        inspector = self._inspector
        found = [*inspector.get_table_names(schema), *inspector.get_view_names(schema)]
        with suppress(NotImplementedError):  # PostgreSQL and Oracle have them
            found += inspector.get_materialized_view_names(schema)
        return found

    def _column_names(self, schema: str | None, table: str) -> list[str]:
        """The columns as stored, from the dialect's catalog query (which seeds use too;
        duckdb-engine's inspector asks DuckDB for PostgreSQL catalogs it lacks)."""
        schema_part = None if schema is None else NamePart(schema, quoted=True)
        found = self._dialect.table_columns(
            self._conn, TableName(NamePart(table, quoted=True), schema_part)
        )
        return [name for name, _ in found or ()]

    def _column(self, schema: str | None, table: str, table_text: str, name: str) -> str:
        key = (schema, table)
        if key not in self._columns:
            self._columns[key] = self._column_names(schema, table)
        columns = self._columns[key]
        plain_name = NamePart(name[1:-1], quoted=True) if _is_quoted(name) else NamePart(name)
        stored = _match(plain_name, columns, self._dialect)
        if stored is None:
            hint = did_you_mean(name, columns, f"its columns: {', '.join(columns)}")
            raise _NotFound(f"column '{name}' not found in {table_text} ({hint})")
        return self._dialect.quote_part(NamePart(stored, quoted=True))


def _is_quoted(name: str) -> bool:
    return len(name) > 2 and name.startswith('"') and name.endswith('"')


def _match(part: NamePart, stored: Sequence[str], dialect: Dialect) -> str | None:
    """The stored name ``part`` means: exactly as written, else as the database folds an
    unquoted name, else the one name that differs only in case (a seed keeps a CSV's
    ``OrderID`` as written, a user types ``orderid``)."""
    if part.text in stored:
        return part.text
    if part.quoted:
        return None
    folded = dialect.fold(part.text)
    if folded in stored:
        return folded
    same = [name for name in stored if name.casefold() == part.text.casefold()]
    return same[0] if len(same) == 1 else None
