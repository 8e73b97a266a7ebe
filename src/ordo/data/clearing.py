"""Clearing tables: drop what a selection matches, dependants first, and nothing else.

A project rebuilt from scratch first drops its staging, intermediate and fact tables (``stg_``,
``int_``, ``fct_``, ``dim_``); ``clear`` does it from the catalog (``ordo.data.catalog``), so the
order is the database's own: views before the tables they read, tables before those their
foreign keys reference, a cycle of keys broken by dropping those keys first.

Names are matched as the database stores them: a prefix literally (``_`` is no wildcard) and
with its case (``stg_`` matches ``stg_orders``, not ``STG_ORDERS`` nor ``stgx``). A table
outside the selection that depends on one inside it (a foreign key from a kept table, a view
left alone reading a dropped table) stops the clear before anything is dropped, naming both.
There is no option to go on regardless: it would mean dropping the key of a table the step
must leave alone, or leaving that table pointing at nothing, and either is better done on
purpose, in a step of its own, than as a side effect of clearing. On MariaDB, SQLite and DuckDB
the catalog does not say what a view reads (``Dialect.knows_what_views_read``): a view left
alone there may be left reading a table that is gone.

Everything runs on the caller's connection, in its transaction: where DDL is transactional
(PostgreSQL, SQLite, DuckDB) a failure half-way leaves every table as it was once the caller
rolls back; on MariaDB each ``DROP`` commits on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ordo.data.catalog import Dependency, Relation, cycle_breakers, dependencies, drop_order
from ordo.data.catalog import relations as catalog_relations
from ordo.errors import PermanentError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo.db.dialects import Dialect

__all__ = ["Cleared", "Selection", "clear", "plan_clear"]

_SHOWN = 5  # blocking dependencies named in a message; the rest are counted


@dataclass(frozen=True)
class Selection:
    """What to drop: names starting with one of ``prefixes``, or one of ``tables``, minus
    ``keep``; views too unless ``views`` is false. ``schema`` ``None``: the current one."""

    prefixes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    views: bool = True
    schema: str | None = None

    def __post_init__(self) -> None:
        if not self.prefixes and not self.tables:
            raise ValueError("a selection needs prefixes, tables or both")
        if any(not p for p in self.prefixes):
            raise ValueError("a prefix is empty: it would match every table")

    def matches(self, relation: Relation) -> bool:
        """Whether ``relation`` is to be dropped: compared as stored, case and all."""
        if relation.name in self.keep or (relation.is_view and not self.views):
            return False
        return relation.name in self.tables or relation.name.startswith(self.prefixes)


@dataclass(frozen=True)
class Cleared:
    """What a clear dropped (or, from ``plan_clear``, would drop), in the order it did."""

    dropped: tuple[Relation, ...]
    # foreign keys on a cycle, taken out of the way first (dropped; on SQLite, checked at commit)
    cycle_keys: tuple[Dependency, ...]
    absent: tuple[str, ...]  # names in ``tables`` that were not there (nothing to drop)


def plan_clear(connection: Connection, dialect: Dialect, selection: Selection) -> Cleared:
    """What ``clear`` would drop, read from the catalog; drops nothing.

    Raises ``PermanentError`` naming each relation outside the selection that depends on one
    inside it, and each ``keep`` name that only differs in case from a relation about to be
    dropped (a name kept as stored would have kept it: the spelling is taken for a mistake).
    """
    found = catalog_relations(connection, dialect, selection.schema)
    known = dependencies(connection, dialect, selection.schema)
    chosen = [r for r in found if selection.matches(r)]
    _check_keep(selection, chosen)
    _check_dependants(chosen, known)
    names = {r.name for r in found}
    absent = tuple(dict.fromkeys(t for t in selection.tables if t not in names))
    return Cleared(
        dropped=tuple(drop_order(chosen, known)),
        cycle_keys=tuple(cycle_breakers(chosen, known)),
        absent=absent,
    )


def clear(
    connection: Connection,
    dialect: Dialect,
    selection: Selection,
    *,
    on_drop: Callable[[str], None] | None = None,
) -> Cleared:
    """Drop what ``selection`` matches on ``connection``, dependants first; what it dropped.

    As ``plan_clear``, then the ``DROP`` statements in its transaction; ``on_drop`` hears each
    as it is done (``dropped table stg_orders``). Database errors come as the driver raised
    them: the caller translates them (``ordo.db.errors.database_errors``) and rolls back.
    """
    cleared = plan_clear(connection, dialect, selection)
    tell = on_drop or (lambda line: None)
    for key in cleared.cycle_keys:
        connection.exec_driver_sql(
            dialect.drop_foreign_key_sql(key.dependant.table_name, key.constraint)
        )
        what = f" {key.constraint}" if key.constraint else ""
        tell(f"foreign key{what} of {key.dependant.describe()} out of the way (a cycle)")
    for relation in cleared.dropped:
        connection.exec_driver_sql(
            dialect.drop_relation_sql(relation.table_name, view=relation.is_view)
        )
        tell(f"dropped {relation.describe()}")
    return cleared


def _check_keep(selection: Selection, chosen: list[Relation]) -> None:
    folded = {k.casefold(): k for k in selection.keep}
    for relation in chosen:
        kept = folded.get(relation.name.casefold())
        if kept is not None:
            raise PermanentError(
                f"keep names '{kept}', but the database stores '{relation.name}', which this "
                "step would drop; nothing was dropped",
                hint=f"write keep: [{relation.name}] (names are matched as stored, case and all)",
            )


def _check_dependants(chosen: list[Relation], known: list[Dependency]) -> None:
    inside = set(chosen)
    blocking = [d for d in known if d.dependency in inside and d.dependant not in inside]
    if not blocking:
        return
    said = [_blocked(d) for d in blocking[:_SHOWN]]
    if len(blocking) > _SHOWN:
        said.append(f"and {len(blocking) - _SHOWN} more")
    first = blocking[0].dependant
    if first.is_view:
        hint = f"drop {first.name} too (views: true, and its name in tables or prefixes)"
    else:
        hint = f"add {first.name} to the step's tables or prefixes to drop it too"
    raise PermanentError(
        f"cannot clear: {'; '.join(said)}; nothing was dropped",
        hint=hint + ", or drop what depends on it in a step before this one",
    )


def _blocked(d: Dependency) -> str:
    """``table orders (not cleared) has foreign key fk_c to table stg_customers``."""
    dependant = d.dependant.describe()
    if d.dependant.schema != d.dependency.schema and d.dependant.schema is not None:
        dependant += f" in schema {d.dependant.schema}"
    how = "reads" if d.dependant.is_view else "has a foreign key to"
    if not d.dependant.is_view and d.constraint:
        how = f"has foreign key {d.constraint} to"
    return f"{dependant} (not cleared) {how} {d.dependency.describe()}"
