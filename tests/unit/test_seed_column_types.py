"""``Dialect.column_type_sql`` and the table layer's SQL on all six dialects, without a server.

SQL Server and Oracle have no server here: these are the only tests of their type names.
"""

from __future__ import annotations

import pytest

from ordo.data.tables import Target, table_sql
from ordo.data.types import ColumnType, TypeKind
from ordo.db.dialects import dialect_for

KINDS = [
    ColumnType(TypeKind.INTEGER),
    ColumnType(TypeKind.DECIMAL, precision=12, scale=3),
    ColumnType(TypeKind.BOOLEAN),
    ColumnType(TypeKind.DATE),
    ColumnType(TypeKind.TIMESTAMP),
    ColumnType(TypeKind.TIMESTAMPTZ),
    ColumnType(TypeKind.TEXT),
    ColumnType(TypeKind.FLOAT),
    ColumnType(TypeKind.TIME),
    ColumnType(TypeKind.BINARY),
    ColumnType(TypeKind.JSON),
]
EXPECTED = {
    "postgresql": ["bigint", "numeric(12,3)", "boolean", "date", "timestamp", "timestamptz",
                   "text", "double precision", "time", "bytea", "jsonb"],
    "mysql": ["bigint", "decimal(12,3)", "tinyint(1)", "date", "datetime(6)", "datetime(6)",
              "longtext", "double", "time(6)", "longblob", "json"],
    "sqlite": ["BIGINT", "NUMERIC(12,3)", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "TEXT",
               "REAL", "TIME", "BLOB", "TEXT"],
    "duckdb": ["BIGINT", "DECIMAL(12,3)", "BOOLEAN", "DATE", "TIMESTAMP", "TIMESTAMPTZ",
               "VARCHAR", "DOUBLE", "TIME", "BLOB", "JSON"],
    "mssql": ["bigint", "decimal(12,3)", "bit", "date", "datetime2(6)", "datetimeoffset(6)",
              "nvarchar(max)", "float", "time(6)", "varbinary(max)", "nvarchar(max)"],
    "oracle": ["NUMBER(19)", "NUMBER(12,3)", "NUMBER(1)", "DATE", "TIMESTAMP(6)",
               "TIMESTAMP(6) WITH TIME ZONE", "CLOB", "BINARY_DOUBLE",
               "INTERVAL DAY(0) TO SECOND(6)", "BLOB", "CLOB"],
}  # fmt: skip


@pytest.mark.parametrize("backend", sorted(EXPECTED))
def test_each_kind_has_its_type_name(backend: str) -> None:
    dialect = dialect_for(backend)
    assert [dialect.column_type_sql(kind) for kind in KINDS] == EXPECTED[backend]


@pytest.mark.parametrize("backend", sorted(EXPECTED))
def test_a_declared_type_is_used_verbatim(backend: str) -> None:
    declared = ColumnType(TypeKind.TEXT, declared="varchar(12) COLLATE x")
    assert dialect_for(backend).column_type_sql(declared) == "varchar(12) COLLATE x"


@pytest.mark.parametrize(
    ("backend", "found", "kind"),
    [
        ("postgresql", "timestamp without time zone", ColumnType(TypeKind.TIMESTAMP)),
        ("postgresql", "timestamp with time zone", ColumnType(TypeKind.TIMESTAMPTZ)),
        ("postgresql", "numeric(12,3)", ColumnType(TypeKind.DECIMAL, 12, 3)),
        ("mysql", "bigint(20)", ColumnType(TypeKind.INTEGER)),
        ("mysql", "tinyint(1)", ColumnType(TypeKind.BOOLEAN)),
        ("duckdb", "TIMESTAMP WITH TIME ZONE", ColumnType(TypeKind.TIMESTAMPTZ)),
        ("duckdb", "DECIMAL(12, 3)", ColumnType(TypeKind.DECIMAL, 12, 3)),
        ("sqlite", "numeric(12, 3)", ColumnType(TypeKind.DECIMAL, 12, 3)),
    ],
)
def test_the_catalogs_spellings_match(backend: str, found: str, kind: ColumnType) -> None:
    assert dialect_for(backend).same_column_type(found, kind)


@pytest.mark.parametrize(
    ("backend", "found", "kind"),
    [
        ("postgresql", "numeric(12,2)", ColumnType(TypeKind.DECIMAL, 12, 3)),
        ("postgresql", "text", ColumnType(TypeKind.INTEGER)),
        ("mysql", "tinyint(4)", ColumnType(TypeKind.BOOLEAN)),
        ("duckdb", "TIMESTAMP", ColumnType(TypeKind.TIMESTAMPTZ)),
    ],
)
def test_other_types_do_not_match(backend: str, found: str, kind: ColumnType) -> None:
    assert not dialect_for(backend).same_column_type(found, kind)


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("postgresql", 'INSERT INTO "s"."Order Items" ("group", "ÄÖ") VALUES (%s, %s)'),
        ("mysql", "INSERT INTO `s`.`Order Items` (`group`, `ÄÖ`) VALUES (%s, %s)"),
        ("sqlite", 'INSERT INTO "s"."Order Items" ("group", "ÄÖ") VALUES (?, ?)'),
        ("duckdb", 'INSERT INTO "s"."Order Items" ("group", "ÄÖ") VALUES (?, ?)'),
        ("mssql", "INSERT INTO [s].[Order Items] ([group], [ÄÖ]) VALUES (%s, %s)"),
        ("oracle", 'INSERT INTO "s"."Order Items" ("group", "ÄÖ") VALUES (:1, :2)'),
    ],
)
def test_names_are_quoted_as_written(backend: str, expected: str) -> None:
    dialect = dialect_for(backend)
    table = table_sql(dialect, Target("Order Items", "s"))
    columns = [dialect.quote_name(f'"{name}"') for name in ("group", "ÄÖ")]
    assert dialect.insert_sql(table, columns) == expected
