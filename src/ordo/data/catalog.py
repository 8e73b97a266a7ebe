"""The catalog: which tables and views a schema holds, and what depends on what.

Clearing tables must drop dependants before what they depend on, and seeds must load parents
before children; both read it here. The queries are the dialect's
(``Dialect.catalog_relations_query``, ``catalog_dependencies_query``): each database keeps this
in its own catalog tables. What a view reads is known where the catalog records it
(``Dialect.knows_what_views_read``: PostgreSQL, SQL Server, Oracle); on MariaDB, SQLite and
DuckDB only a view's text is kept, which is not parsed here, so no dependency of a view is
listed there (those databases let a view and what it reads be dropped in either order).

Names are as the database stores them (``ST_SALES`` on Oracle, ``st_sales`` on PostgreSQL for
the same unquoted ``CREATE TABLE``); ``Relation.table_name`` quotes them exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ordo.db.dialects import NamePart, TableName

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo.db.dialects import Dialect

__all__ = [
    "Dependency",
    "Relation",
    "cycle_breakers",
    "dependencies",
    "drop_order",
    "relations",
]


@dataclass(frozen=True, order=True)
class Relation:
    """A table or a view as stored: its name and schema exactly as the catalog spells them."""

    name: str
    schema: str | None
    is_view: bool

    @property
    def table_name(self) -> TableName:
        """The name for ``Dialect.quote_table``: each part quoted, so it is used exactly."""
        schema = None if self.schema is None else NamePart(self.schema, quoted=True)
        return TableName(NamePart(self.name, quoted=True), schema)

    def describe(self) -> str:
        """``view stg_totals`` or ``table stg_orders``: how a message names it."""
        return f"{'view' if self.is_view else 'table'} {self.name}"


@dataclass(frozen=True)
class Dependency:
    """``dependant`` needs ``dependency``: a foreign key from it, or a view reading it."""

    dependant: Relation
    dependency: Relation
    constraint: str | None  # the foreign key's name; None for a view (and on SQLite)

    @property
    def is_foreign_key(self) -> bool:
        return not self.dependant.is_view


def relations(
    connection: Connection, dialect: Dialect, schema: str | None = None
) -> list[Relation]:
    """The tables and views of ``schema`` (``None``: the connection's current schema), by name.

    Left out: temporary tables, partitions (they go with their table), materialized views and
    the database's own tables.
    """
    rows = connection.execute(dialect.catalog_relations_query(schema)).all()
    found = [Relation(str(name), _schema(owner), bool(view)) for name, owner, view in rows]
    return sorted(found, key=lambda r: (r.name, r.schema or ""))


def dependencies(
    connection: Connection, dialect: Dialect, schema: str | None = None
) -> list[Dependency]:
    """Everything that depends on a table or view of ``schema`` (``None``: the current one).

    Each foreign key referencing a table there, and (where the dialect
    ``knows_what_views_read``) each view reading a table or view there. The dependant may live
    in another schema: a table elsewhere that references one here is what keeps it from being
    dropped. A table referencing itself is listed too; ``drop_order`` ignores it.
    """
    rows = connection.execute(dialect.catalog_dependencies_query(schema)).all()
    found = {
        Dependency(
            Relation(str(name), _schema(owner), bool(view)),
            Relation(str(needed), _schema(needed_owner), bool(needed_view)),
            None if constraint is None else str(constraint),
        )
        for owner, name, view, needed_owner, needed, needed_view, constraint in rows
    }
    return sorted(found, key=_dependency_key)


def cycle_breakers(
    relations: Iterable[Relation], dependencies: Iterable[Dependency]
) -> list[Dependency]:
    """The foreign keys between ``relations`` that lie on a cycle, sorted.

    No order drops every table of a cycle after its dependants (``a`` references ``b`` and
    ``b`` references ``a``): these keys must be taken out of the way first
    (``Dialect.drop_foreign_key_sql``), and ``drop_order`` orders the rest without them.
    A key from a table to itself is no cycle: the table goes with its own key.
    """
    edges = _edges(set(relations), dependencies)
    on_cycle = (d for d in edges if d.is_foreign_key and _reaches(d.dependency, d.dependant, edges))
    return sorted(on_cycle, key=_dependency_key)


def drop_order(relations: Sequence[Relation], dependencies: Iterable[Dependency]) -> list[Relation]:
    """``relations`` in an order that drops every dependant before what it depends on.

    Only dependencies between ``relations`` count (one on a relation outside them is the
    caller's to refuse). Among the relations free to go, views go first, then by name, so the
    order is the same on every run; views whose reads the catalog does not know therefore
    come before every table. A cycle of foreign keys is broken by dropping its constraints
    first: the keys ``cycle_breakers`` returns are left out of the order here, and the caller
    drops them (``Dialect.drop_foreign_key_sql``) before the first ``DROP``, as
    ``ordo.data.clearing`` does.
    """
    members = list(dict.fromkeys(relations))
    known = list(dependencies)  # read twice: an iterator would be empty the second time
    breakers = set(cycle_breakers(members, known))
    edges = [d for d in _edges(set(members), known) if d not in breakers]
    waiting_on = {r: 0 for r in members}  # dependants not yet dropped
    needs: dict[Relation, list[Relation]] = {r: [] for r in members}
    for edge in edges:
        waiting_on[edge.dependency] += 1
        needs[edge.dependant].append(edge.dependency)
    order: list[Relation] = []
    ready = sorted((r for r, count in waiting_on.items() if count == 0), key=_drop_key)
    while ready:
        relation = ready.pop(0)
        order.append(relation)
        for needed in needs[relation]:
            waiting_on[needed] -= 1
            if waiting_on[needed] == 0:
                ready.append(needed)
        ready.sort(key=_drop_key)
    if len(order) != len(members):  # only views could cycle here, and a catalog has none
        stuck = ", ".join(r.describe() for r in members if r not in order)
        raise ValueError(f"no order drops these, each waits for another: {stuck}")
    return order


def _edges(members: set[Relation], dependencies: Iterable[Dependency]) -> list[Dependency]:
    """The dependencies between two different ``members``, each once."""
    return list(
        dict.fromkeys(
            d
            for d in dependencies
            if d.dependant in members and d.dependency in members and d.dependant != d.dependency
        )
    )


def _reaches(start: Relation, goal: Relation, edges: list[Dependency]) -> bool:
    """Whether following dependencies from ``start`` leads to ``goal`` (catalogs are small:
    a walk per key is cheap, and plainer than a strongly-connected-components pass)."""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for edge in edges:
            if edge.dependant == node and edge.dependency not in seen:
                if edge.dependency == goal:
                    return True
                seen.add(edge.dependency)
                todo.append(edge.dependency)
    return start == goal


def _drop_key(relation: Relation) -> tuple[bool, str, str]:
    return (not relation.is_view, relation.name, relation.schema or "")


def _dependency_key(d: Dependency) -> tuple[str, str, str, str, str]:
    return (
        d.dependant.schema or "",
        d.dependant.name,
        d.dependency.schema or "",
        d.dependency.name,
        d.constraint or "",
    )


def _schema(value: object) -> str | None:
    return None if value is None else str(value)
