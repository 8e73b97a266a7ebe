"""The catalog on the four live databases: tables, views, foreign keys, and an order that
drops them all, whatever order they were made in.

The compiled queries of SQL Server and Oracle (no server here) are checked in
``tests/unit/test_clear_catalog_sql.py``; ``drop_order`` alone in
``tests/unit/test_clear_drop_order.py``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, text

from ordo.data.catalog import (
    Dependency,
    Relation,
    cycle_breakers,
    dependencies,
    drop_order,
    relations,
)
from ordo.db.dialects import Dialect


def _run(conn: Connection, *statements: str) -> None:
    for sql in statements:
        conn.exec_driver_sql(sql)


def _table(name: str, *keys: tuple[str, str, str]) -> str:
    """``CREATE TABLE name`` with an ``id`` key and a named foreign key per ``(constraint,
    column, parent)``."""
    columns = ["id INTEGER PRIMARY KEY"]
    for constraint, column, parent in keys:
        columns.append(f"{column} INTEGER")
        columns.append(f"CONSTRAINT {constraint} FOREIGN KEY ({column}) REFERENCES {parent}(id)")
    return f"CREATE TABLE {name} ({', '.join(columns)})"


def _schema(conn: Connection, dialect: Dialect) -> str:
    """The connection's current schema as the catalog names it."""
    return str(conn.execute(text(_CURRENT[dialect.name])).scalar())


_CURRENT = {
    "postgresql": "SELECT current_schema()",
    "mariadb": "SELECT DATABASE()",
    "mysql": "SELECT DATABASE()",
    "duckdb": "SELECT current_schema()",
    "sqlite": "SELECT 'main'",
}


def test_relations_lists_tables_and_views_as_stored(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn, conn.begin():
        _run(
            conn,
            "CREATE TABLE stg_orders (id INTEGER PRIMARY KEY)",
            'CREATE TABLE "Stg_Mixed" (id INTEGER)'
            if dialect.name not in ("mariadb", "mysql")
            else "CREATE TABLE `Stg_Mixed` (id INTEGER)",
            "CREATE VIEW stg_totals AS SELECT id FROM stg_orders",
        )
        schema = _schema(conn, dialect)
        found = relations(conn, dialect)
        assert found == [
            Relation("Stg_Mixed", schema, False),
            Relation("stg_orders", schema, False),
            Relation("stg_totals", schema, True),
        ]
        assert relations(conn, dialect, schema) == found


def test_dependencies_are_foreign_keys_and_known_view_reads(
    engine: Engine, dialect: Dialect
) -> None:
    parent = "dim_customer" if dialect.name in ("mariadb", "mysql") else "DIM_CUSTOMER"
    with engine.connect() as conn, conn.begin():
        _run(
            conn,
            "CREATE TABLE dim_customer (id INTEGER PRIMARY KEY)",
            # the parent written in another case than it is stored: the catalog resolves it
            # (MariaDB's table names are case-sensitive: it would be another table there)
            _table("fct_sale", ("fk_sale_customer", "customer_id", parent)),
            "CREATE VIEW fct_sale_view AS SELECT id FROM fct_sale",
        )
        schema = _schema(conn, dialect)
        customer = Relation("dim_customer", schema, False)
        sale = Relation("fct_sale", schema, False)
        view = Relation("fct_sale_view", schema, True)
        found = dependencies(conn, dialect)
        # SQLite keeps no key names; DuckDB makes its own (and can drop no key anyway)
        named = {"sqlite": None, "duckdb": found[0].constraint}.get(
            dialect.name, "fk_sale_customer"
        )
        expected = [Dependency(sale, customer, named)]
        if dialect.knows_what_views_read:
            expected.append(Dependency(view, sale, None))
        assert found == expected
        assert dependencies(conn, dialect, schema) == expected


@pytest.mark.parametrize("backwards", [False, True], ids=["made-in-order", "made-backwards"])
def test_drop_order_drops_everything(engine: Engine, dialect: Dialect, backwards: bool) -> None:
    """Tables referencing tables, views reading views: the order drops all of them, where
    the database refuses to drop what something still depends on (PostgreSQL, DuckDB,
    MariaDB with its foreign keys, SQLite with ``PRAGMA foreign_keys``)."""
    made = [
        "CREATE TABLE int_a (id INTEGER PRIMARY KEY)",
        _table("int_b", ("fk_b_a", "a_id", "int_a")),
        _table("int_c", ("fk_c_b", "b_id", "int_b")),
        "CREATE VIEW int_v AS SELECT id FROM int_a",
        "CREATE VIEW int_w AS SELECT int_v.id FROM int_v JOIN int_c ON int_c.id = int_v.id",
    ]
    if backwards:  # names sort against dependencies: the order must not be by name alone
        made = [s.replace("int_a", "int_z").replace("int_v", "int_y") for s in made]
    with engine.connect() as conn, conn.begin():
        if dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        _run(conn, *made)
        found = relations(conn, dialect)
        order = drop_order(found, dependencies(conn, dialect))
        assert sorted(order) == sorted(found)
        assert [r.is_view for r in order] == [True, True, False, False, False]
        tables = [r.name for r in order if not r.is_view]
        assert tables == ["int_c", "int_b", "int_z" if backwards else "int_a"]
        if dialect.knows_what_views_read:
            assert [r.name for r in order[:2]] == ["int_w", "int_y" if backwards else "int_v"]
        for relation in order:
            conn.exec_driver_sql(
                dialect.drop_relation_sql(relation.table_name, view=relation.is_view)
            )
        assert relations(conn, dialect) == []


def test_a_cycle_of_foreign_keys_is_broken_first(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn, conn.begin():
        if dialect.name == "duckdb":  # no foreign key can be added later, so no cycle exists
            _run(conn, "CREATE TABLE a (id INTEGER PRIMARY KEY)", "CREATE TABLE b (id INTEGER)")
            with pytest.raises(Exception, match=r"(?i)not implemented|no support"):
                conn.exec_driver_sql(
                    "ALTER TABLE b ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES a(id)"
                )
            return
        if dialect.name == "sqlite":  # a key may name a table made after it
            _run(
                conn,
                "PRAGMA foreign_keys = ON",
                _table("dim_a", ("fk_a_b", "b_id", "dim_b")),
                _table("dim_b", ("fk_b_a", "a_id", "dim_a")),
                "INSERT INTO dim_a VALUES (1, NULL)",
                "INSERT INTO dim_b VALUES (1, 1)",
                "UPDATE dim_a SET b_id = 1",
            )
        else:
            _run(
                conn,
                "CREATE TABLE dim_a (id INTEGER PRIMARY KEY, b_id INTEGER)",
                _table("dim_b", ("fk_b_a", "a_id", "dim_a")),
                "ALTER TABLE dim_a ADD CONSTRAINT fk_a_b FOREIGN KEY (b_id) REFERENCES dim_b(id)",
            )
        found = relations(conn, dialect)
        known = dependencies(conn, dialect)
        breakers = cycle_breakers(found, known)
        assert [(d.dependant.name, d.dependency.name) for d in breakers] == [
            ("dim_a", "dim_b"),
            ("dim_b", "dim_a"),
        ]
        for key in breakers:
            conn.exec_driver_sql(
                dialect.drop_foreign_key_sql(key.dependant.table_name, key.constraint)
            )
        for relation in drop_order(found, known):
            conn.exec_driver_sql(dialect.drop_relation_sql(relation.table_name, view=False))
        assert relations(conn, dialect) == []


@pytest.mark.postgres
def test_a_dependant_in_another_schema_is_listed(pg: Engine) -> None:
    """A table elsewhere referencing one here, a view elsewhere reading it: both are listed,
    since either keeps the table from being dropped."""
    from ordo.db.dialects import dialect_for

    dialect = dialect_for(pg)
    with pg.connect() as conn, conn.begin():
        schema = _schema(conn, dialect)
        other = f"{schema}_other"
        _run(
            conn,
            f'CREATE SCHEMA "{other}"',
            "CREATE TABLE stg_parent (id INTEGER PRIMARY KEY)",
            f'CREATE TABLE "{other}".child (id INTEGER, parent_id INTEGER REFERENCES stg_parent)',
            f'CREATE VIEW "{other}".reader AS SELECT id FROM stg_parent',
        )
        try:
            parent = Relation("stg_parent", schema, False)
            assert dependencies(conn, dialect) == [
                Dependency(Relation("child", other, False), parent, "child_parent_id_fkey"),
                Dependency(Relation("reader", other, True), parent, None),
            ]
            assert relations(conn, dialect, other) == [
                Relation("child", other, False),
                Relation("reader", other, True),
            ]
        finally:
            conn.exec_driver_sql(f'DROP SCHEMA "{other}" CASCADE')
