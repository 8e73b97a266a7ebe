"""``drop_order`` and ``cycle_breakers`` on catalogs made by hand (no database)."""

from __future__ import annotations

import pytest

from ordo.data.catalog import Dependency, Relation, cycle_breakers, drop_order


def table(name: str) -> Relation:
    return Relation(name, "s", False)


def view(name: str) -> Relation:
    return Relation(name, "s", True)


def key(child: Relation, parent: Relation, name: str | None = None) -> Dependency:
    return Dependency(child, parent, name or f"fk_{child.name}_{parent.name}")


def reads(reader: Relation, read: Relation) -> Dependency:
    return Dependency(reader, read, None)


def names(order: list[Relation]) -> list[str]:
    return [r.name for r in order]


def test_dependants_go_before_what_they_depend_on() -> None:
    a, b, c = table("a"), table("b"), table("c")
    # a needs b, b needs c: by name the order would be a, b, c the wrong way round for c
    order = drop_order([c, b, a], [key(b, c), key(a, b)])
    assert names(order) == ["a", "b", "c"]
    order = drop_order([a, b, c], [key(b, a), key(c, b)])
    assert names(order) == ["c", "b", "a"]


def test_views_go_first_and_a_view_reading_a_view_before_it() -> None:
    t, v, w = table("t"), view("v"), view("w")
    order = drop_order([t, v, w], [reads(v, t), reads(w, v)])
    assert names(order) == ["w", "v", "t"]
    # with nothing known of what views read, views still come before every table
    assert names(drop_order([t, v, w], [])) == ["v", "w", "t"]


def test_only_dependencies_between_the_relations_count() -> None:
    a, b, outside = table("a"), table("b"), table("kept")
    order = drop_order([b, a], [key(outside, a), key(a, outside), key(b, b)])
    assert names(order) == ["a", "b"]


def test_a_cycle_is_broken_by_its_foreign_keys() -> None:
    a, b, c, d = table("a"), table("b"), table("c"), table("d")
    deps = [key(a, b), key(b, c), key(c, a), key(d, a), key(a, a)]
    breakers = cycle_breakers([a, b, c, d], deps)
    assert [(k.dependant.name, k.dependency.name) for k in breakers] == [
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
    ]
    order = drop_order([a, b, c, d], deps)
    assert names(order) == ["b", "c", "d", "a"]  # d's key to a is no cycle: d goes before a


def test_dependencies_may_come_as_an_iterator() -> None:
    a, b, c = table("a"), table("b"), table("c")
    assert names(drop_order([a, b, c], iter([key(b, a), key(c, b)]))) == ["c", "b", "a"]


def test_the_same_relation_twice_is_dropped_once() -> None:
    a = table("a")
    assert drop_order([a, a], []) == [a]


def test_views_reading_each_other_cannot_be_ordered() -> None:
    v, w = view("v"), view("w")
    with pytest.raises(ValueError, match="view v, view w"):
        drop_order([v, w], [reads(v, w), reads(w, v)])


def test_a_relation_names_itself_exactly() -> None:
    relation = Relation("Stg Orders", "Sales", False)
    assert str(relation.table_name) == '"Sales"."Stg Orders"'
    assert relation.describe() == "table Stg Orders"
    assert Relation("x", None, True).table_name.schema is None
