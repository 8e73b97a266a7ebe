"""Creating, emptying and filling the table a seed or a load writes, on any backend.

Two functions, both inside the caller's transaction so that a failure later in the step
leaves the table as it was where the database's DDL is transactional:

- ``prepare_table`` makes the table ready for ``mode``: it creates it, empties it, or drops
  and remakes it when its columns changed, and refuses (``PermanentError``) where that would
  lose what the user did not ask to lose;
- ``insert_rows`` writes Python values through the backend's fastest generic path (the
  dialect's ``bulk_insert``: PostgreSQL ``COPY``, one prepared ``executemany`` elsewhere,
  multi-row ``INSERT`` batches on MariaDB/MySQL).

Names are used exactly as given (a CSV header, a table name the kind already folded): the
dialect quotes every one of them, so ``group``, ``Order Date`` and ``ÄÖ`` are columns like any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy
from sqlalchemy.exc import DBAPIError

from ordo.data.types import Column

if TYPE_CHECKING:
    from ordo.data.catalog import Dependency
from ordo.db.dialects import Dialect, ErrorKind, NamePart, TableName
from ordo.db.errors import classify, describe
from ordo.errors import PermanentError

__all__ = ["Mode", "Target", "insert_rows", "prepare_table", "table_sql"]

Mode = Literal["replace", "append", "truncate"]
"""``replace``: make the table hold only the new rows, remade when its columns changed;
``append``: add the rows to the table (made when missing); ``truncate``: empty an existing
table and load it."""


@dataclass(frozen=True)
class Target:
    """A table as the database stores its name (no folding, no quotes: the dialect quotes)."""

    table: str
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def table_name(self) -> TableName:
        """The name with every part exact (quoted), as ``Dialect.quote_table`` takes it."""
        schema = NamePart(self.schema, quoted=True) if self.schema else None
        return TableName(NamePart(self.table, quoted=True), schema)


def table_sql(dialect: Dialect, target: Target) -> str:
    """The target's name quoted for SQL."""
    return dialect.quote_table(target.table_name)


def prepare_table(
    connection: sqlalchemy.Connection,
    dialect: Dialect,
    target: Target,
    columns: Sequence[Column],
    mode: Mode,
    *,
    cascade: bool = False,
) -> None:
    """Make ``target`` ready to take rows of ``columns`` as ``mode`` says.

    ``replace`` creates a missing table, empties one whose columns and types are the same,
    and drops and recreates one whose columns changed; the drop is refused when another
    object (a view, a foreign key) depends on the table, naming it, unless ``cascade``.
    ``append`` creates a missing table and refuses one whose columns differ. ``truncate``
    refuses a missing table and empties it. Runs in the caller's transaction.
    """
    name = table_sql(dialect, target)
    found = dialect.table_columns(connection, target.table_name)
    if found is None:
        if mode == "truncate":
            raise PermanentError(
                f"table {target} does not exist, and mode truncate only empties a table that "
                "does; use mode replace or append to create it"
            )
        _create(connection, dialect, name, columns)
        return
    wanted = [column.name for column in columns]
    have = [column_name for column_name, _ in found]
    if mode != "replace":
        if have != wanted:
            raise PermanentError(
                f"table {target} has the columns {_listed(have)}, but the data has "
                f"{_listed(wanted)}; use mode replace to make the table again"
            )
        if mode == "truncate":
            dialect.empty_table(connection, name)
        return
    same_types = all(
        dialect.same_column_type(found_type, column.type)
        for (_, found_type), column in zip(found, columns, strict=False)
    )
    if have == wanted and same_types:
        dialect.empty_table(connection, name)
        return
    _drop(connection, dialect, target, name, cascade=cascade)
    _create(connection, dialect, name, columns)


def insert_rows(
    connection: sqlalchemy.Connection,
    dialect: Dialect,
    target: Target,
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
) -> int:
    """Insert ``rows`` (Python values in the order of ``columns``; ``None`` is NULL) into
    ``target`` by the dialect's fastest generic path, in the caller's transaction; returns
    the number of rows. ``rows`` is consumed once, in batches: it may be a generator."""
    converters = [dialect.bind_converter(column.type) for column in columns]
    if any(converters):
        rows = _converted(rows, converters)
    columns_sql = [dialect.quote_part(NamePart(column.name, quoted=True)) for column in columns]
    return dialect.bulk_insert(connection, table_sql(dialect, target), columns_sql, rows)


def _create(
    connection: sqlalchemy.Connection, dialect: Dialect, name: str, columns: Sequence[Column]
) -> None:
    # Built from quoted names and the dialect's type names only (a declared type is the
    # user's own SQL, as in a sql step).
    definitions = ", ".join(
        f"{dialect.quote_part(NamePart(column.name, quoted=True))} "
        f"{dialect.column_type_sql(column.type)}"
        for column in columns
    )
    dialect.execute(connection, f"CREATE TABLE {name} ({definitions})", fetch=False)


def _drop(
    connection: sqlalchemy.Connection,
    dialect: Dialect,
    target: Target,
    name: str,
    *,
    cascade: bool,
) -> None:
    """Drop the table whose columns changed. Without ``cascade`` what the catalog knows to
    depend on it (foreign keys; views where the database records what they read) refuses
    the drop, named; the database's own refusal says the same for what the catalog missed."""
    if not cascade:
        dependants = sorted(
            {d.dependant.describe() for d in _dependants(connection, dialect, target)}
        )
        if dependants:
            raise PermanentError(
                f"the columns of table {target} changed, so it must be dropped and made "
                f"again, but {', '.join(dependants)} depend{'s' if len(dependants) == 1 else ''}"
                " on it",
                hint="drop or change them first, or set cascade: true to drop the table anyway",
            )
    try:
        dialect.drop_existing_table(connection, name, cascade=cascade)
    except DBAPIError as exc:
        if classify(exc) is not ErrorKind.PERMANENT:
            raise
        raise PermanentError(
            f"the columns of table {target} changed, so it must be dropped and made again, "
            f"but the database refuses: {describe(exc)}",
            hint="drop what depends on the table first, or set cascade: true to drop it too",
        ) from exc


def _dependants(
    connection: sqlalchemy.Connection, dialect: Dialect, target: Target
) -> list[Dependency]:
    """What depends on ``target`` (other than itself), from the catalog."""
    from ordo.data.catalog import dependencies  # only when a table must be dropped

    return [
        d
        for d in dependencies(connection, dialect, target.schema)
        if d.dependency.name == target.table and d.dependant != d.dependency
    ]


def _converted(
    rows: Iterable[Sequence[object]], converters: Sequence[Callable[[Any], Any] | None]
) -> Iterator[Sequence[object]]:
    pairs = [(i, convert) for i, convert in enumerate(converters) if convert is not None]
    for row in rows:
        values = list(row)
        for i, convert in pairs:
            value = values[i]
            if value is not None:
                values[i] = convert(value)
        yield values


def _listed(names: Sequence[str]) -> str:
    return "(" + ", ".join(names) + ")"
