"""The catalog's SQL as each of the six dialects compiles it, without a server.

SQL Server and Oracle have no server here: this is the check their catalog queries get (the
four others also run live in ``tests/integration/test_catalog.py``).
"""

from __future__ import annotations

import pytest

from ordo.data.catalog import Relation
from ordo.db.dialects import dialect_for

BACKENDS = ["postgresql", "mysql", "mariadb", "sqlite", "duckdb", "mssql", "oracle"]

# What each catalog query must read: the catalog tables that hold the answer.
READS = {
    "postgresql": (["pg_class", "pg_namespace"], ["pg_constraint", "pg_depend", "pg_rewrite"]),
    "mysql": (["information_schema.TABLES"], ["REFERENTIAL_CONSTRAINTS"]),
    "mariadb": (["information_schema.TABLES"], ["REFERENTIAL_CONSTRAINTS"]),
    "sqlite": (["pragma_table_list"], ["pragma_foreign_key_list"]),
    "duckdb": (["duckdb_tables()", "duckdb_views()"], ["duckdb_constraints()"]),
    "mssql": (["sys.objects", "sys.schemas"], ["sys.foreign_keys", "sql_expression_dependencies"]),
    "oracle": (["all_tables", "all_views", "all_mviews"], ["all_constraints", "all_dependencies"]),
}
CURRENT_SCHEMA = {
    "postgresql": "current_schema()",
    "mysql": "DATABASE()",
    "mariadb": "DATABASE()",
    "sqlite": "'main'",
    "duckdb": "current_schema()",
    "mssql": "SCHEMA_NAME()",
    "oracle": "SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')",
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_catalog_queries_compile_with_the_schema_bound(backend: str) -> None:
    dialect = dialect_for(backend)
    relations_reads, dependency_reads = READS[backend]
    for query, reads in (
        (dialect.catalog_relations_query("Sales"), relations_reads),
        (dialect.catalog_dependencies_query("Sales"), dependency_reads),
    ):
        compiled = query.compile(dialect=dialect.sa_dialect)
        sql = str(compiled)
        for name in reads:
            assert name in sql, (backend, name)
        assert CURRENT_SCHEMA[backend] in sql  # the default when no schema is given
        assert compiled.params == {"catalog_schema": "Sales"}
        assert "Sales" not in sql  # bound, never pasted
    default = dialect.catalog_relations_query(None).compile(dialect=dialect.sa_dialect)
    assert default.params == {"catalog_schema": None}


def test_what_views_read_is_known_where_the_catalog_records_it() -> None:
    knows = {b for b in BACKENDS if dialect_for(b).knows_what_views_read}
    assert knows == {"postgresql", "mssql", "oracle"}


DROPS = {
    "postgresql": ('DROP TABLE "S"."Stg_A"', 'DROP VIEW "S"."Stg_A"',
                   'ALTER TABLE "S"."Stg_A" DROP CONSTRAINT "Fk_1"'),
    "mysql": ("DROP TABLE `S`.`Stg_A`", "DROP VIEW `S`.`Stg_A`",
              "ALTER TABLE `S`.`Stg_A` DROP FOREIGN KEY `Fk_1`"),
    "mariadb": ("DROP TABLE `S`.`Stg_A`", "DROP VIEW `S`.`Stg_A`",
                "ALTER TABLE `S`.`Stg_A` DROP FOREIGN KEY `Fk_1`"),
    "sqlite": ('DROP TABLE "S"."Stg_A"', 'DROP VIEW "S"."Stg_A"', "PRAGMA defer_foreign_keys = ON"),
    "duckdb": ('DROP TABLE "S"."Stg_A"', 'DROP VIEW "S"."Stg_A"',
               'ALTER TABLE "S"."Stg_A" DROP CONSTRAINT "Fk_1"'),
    "mssql": ("DROP TABLE [S].[Stg_A]", "DROP VIEW [S].[Stg_A]",
              "ALTER TABLE [S].[Stg_A] DROP CONSTRAINT [Fk_1]"),
    "oracle": ('DROP TABLE "S"."Stg_A" PURGE', 'DROP VIEW "S"."Stg_A"',
               'ALTER TABLE "S"."Stg_A" DROP CONSTRAINT "Fk_1"'),
}  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_drops_name_the_relation_exactly_as_stored(backend: str) -> None:
    dialect = dialect_for(backend)
    name = Relation("Stg_A", "S", False).table_name
    table, view, key = DROPS[backend]
    assert dialect.drop_relation_sql(name, view=False) == table
    assert dialect.drop_relation_sql(name, view=True) == view
    assert dialect.drop_foreign_key_sql(name, "Fk_1") == key
