"""Each check as one counting query (and, when it fails, one query for a sample of its rows).

The SQL is built here as text from parts that are safe by construction: table and column names
come quoted from the dialect (after they were found in the catalog, ``running``), values are
the dialect's literals, and ``where`` / ``expression`` / ``sql`` are the user's own SQL, kept
as the SQL they are, like a sql step's. The forms are the plain ones every database here runs
(``COUNT(CASE ...)``, ``LEFT JOIN ... IS NULL`` for an anti-join, subqueries in ``FROM``
with aliases and no ``AS``, which Oracle refuses), so one builder serves all six dialects; only
the row limit of a sample differs (``Dialect.limit_rows``).

A row check's counting query returns ``(total_rows, failing_rows)`` in one pass over the table,
so checking a million rows costs what the same query typed by hand costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ordo.checks.model import (
    AcceptedValues,
    CheckBase,
    ExpressionCheck,
    Freshness,
    NotNull,
    Range,
    Relationships,
    RowCount,
    SqlCheck,
    Unique,
)

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["CheckQuery", "Names", "compile_check"]


@dataclass(frozen=True)
class Names:
    """The check's names as found in the catalog, each quoted for SQL by the dialect."""

    table: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)  # as written -> quoted
    other: str = ""  # relationships' ``to``, row_count's ``equal_to``
    field: str = ""  # relationships' ``field``

    def column(self, name: str) -> str:
        return self.columns[name]


@dataclass(frozen=True)
class CheckQuery:
    """``counts`` returns one row: ``(total, failing)`` for a row check, ``(count, other)`` for
    ``row_count``, ``(newest,)`` for ``freshness``, ``(failing,)`` for ``sql``.
    ``failing_rows`` selects the failing rows (unlimited; ``Dialect.limit_rows`` cuts it)."""

    counts: str
    failing_rows: str | None


def compile_check(check: CheckBase, names: Names, dialect: Dialect) -> CheckQuery:
    """The queries of ``check`` on ``dialect``."""
    where = f" WHERE ({check.where})" if check.where else ""
    also = f"({check.where}) AND " if check.where else ""
    table = names.table
    if isinstance(check, RowCount):
        if check.equal_to is None:
            return CheckQuery(f"SELECT COUNT(*) AS row_count FROM {table}{where}", None)
        return CheckQuery(
            f"SELECT counted.n, other.n FROM (SELECT COUNT(*) AS n FROM {table}{where}) counted "
            f"CROSS JOIN (SELECT COUNT(*) AS n FROM {names.other}) other",
            None,
        )
    if isinstance(check, Freshness):
        return CheckQuery(
            f"SELECT MAX({names.column(check.column)}) AS newest FROM {table}{where}", None
        )
    if isinstance(check, SqlCheck):
        query = _without_semicolon(check.sql)
        return CheckQuery(f"SELECT COUNT(*) AS failing_rows FROM ({query}) failing", query)
    if isinstance(check, Unique):
        return _unique(check, names, where, also)
    if isinstance(check, Relationships):
        return _relationships(check, names, where, also)
    bad = _bad_row(check, names, dialect)
    return CheckQuery(
        f"SELECT COUNT(*) AS total_rows, COUNT(CASE WHEN {bad} THEN 1 END) AS failing_rows "
        f"FROM {table}{where}",
        f"SELECT * FROM {table} WHERE {also}({bad})",
    )


def _bad_row(check: CheckBase, names: Names, dialect: Dialect) -> str:
    """The condition that makes one row fail."""
    if isinstance(check, NotNull):
        return " OR ".join(f"{names.column(c)} IS NULL" for c in check.columns_named())
    if isinstance(check, AcceptedValues):
        column = names.column(check.column)
        values = ", ".join(dialect.quote_literal(v) for v in check.values)
        return f"{column} IS NOT NULL AND {column} NOT IN ({values})"
    if isinstance(check, Range):
        column = names.column(check.column)
        outside = []
        if check.min is not None:
            outside.append(f"{column} < {dialect.quote_literal(check.min)}")
        if check.max is not None:
            outside.append(f"{column} > {dialect.quote_literal(check.max)}")
        return f"{column} IS NOT NULL AND ({' OR '.join(outside)})"
    if isinstance(check, ExpressionCheck):
        return f"NOT ({check.expression})"
    raise TypeError(f"no query for a {type(check).__name__}")  # pragma: no cover - all covered


def _unique(check: Unique, names: Names, where: str, also: str) -> CheckQuery:
    key = ", ".join(names.column(c) for c in check.columns_named())
    present = " AND ".join(f"{names.column(c)} IS NOT NULL" for c in check.columns_named())
    groups = f"FROM {names.table} WHERE {also}{present} GROUP BY {key} HAVING COUNT(*) > 1"
    return CheckQuery(
        f"SELECT totals.total_rows, COALESCE(dupes.failing_rows, 0) "
        f"FROM (SELECT COUNT(*) AS total_rows FROM {names.table}{where}) totals "
        f"CROSS JOIN (SELECT SUM(dup_keys.n) AS failing_rows "
        f"FROM (SELECT COUNT(*) AS n {groups}) dup_keys) dupes",
        f"SELECT {key}, COUNT(*) AS duplicate_rows {groups}",
    )


def _relationships(check: Relationships, names: Names, where: str, also: str) -> CheckQuery:
    # ``LEFT JOIN ... WHERE parent IS NULL``, counted apart from the total: every database
    # here runs that as one anti-join (a key the parent holds twice still finds no orphan),
    # where a CASE over the joined rows, or NOT EXISTS per row, cost PostgreSQL five times as
    # much on a million rows.
    column = f"child.{names.column(check.column)}"
    orphans = (
        f"FROM {names.table} child LEFT JOIN {names.other} parent "
        f"ON parent.{names.field} = {column} "
        f"WHERE {also}{column} IS NOT NULL AND parent.{names.field} IS NULL"
    )
    return CheckQuery(
        f"SELECT totals.total_rows, orphans.failing_rows "
        f"FROM (SELECT COUNT(*) AS total_rows FROM {names.table}{where}) totals "
        f"CROSS JOIN (SELECT COUNT(*) AS failing_rows {orphans}) orphans",
        f"SELECT child.* {orphans}",
    )


def _without_semicolon(sql: str) -> str:
    return sql.strip().rstrip(";").rstrip()
