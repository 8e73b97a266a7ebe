"""The history table's DDL for every dialect, compiled without a server.

SQL Server and Oracle have no server here: these compiled statements are their only test.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.schema import CreateTable

from ordo.db.dialects import dialect_for, parse_table_name
from ordo.migrations.history import history_table

COLUMNS = [
    "version_rank",
    "installed_rank",
    "version",
    "description",
    "type",
    "script",
    "checksum",
    "installed_by",
    "installed_on",
    "execution_time",
    "success",
]


def ddl(backend: str, name: str = "schema_version") -> str:
    dialect = dialect_for(backend)
    table = history_table(parse_table_name(name), dialect)
    return str(CreateTable(table).compile(dialect=dialect.sa_dialect))


def column_line(sql: str, column: str) -> str:
    match = re.search(rf"^\s*{column} (.*?),?\s*$", sql, re.M)
    assert match, f"{column} missing from\n{sql}"
    return match.group(1)


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "sqlite", "duckdb", "mssql", "oracle"])
def test_every_dialect_gets_seed_001s_columns(backend: str) -> None:
    sql = ddl(backend)
    for column in COLUMNS:
        column_line(sql, column)
    assert "PRIMARY KEY (installed_rank)" in sql
    assert "NOT NULL" in column_line(sql, "installed_rank")
    assert "NOT NULL" not in column_line(sql, "version")  # repeatables have no version
    assert "NOT NULL" not in column_line(sql, "checksum")  # baselines have no checksum
    assert "CURRENT_TIMESTAMP" in column_line(sql, "installed_on")


def test_sql_server_ddl() -> None:
    sql = ddl("mssql")
    assert sql.strip().startswith("CREATE TABLE schema_version (")
    assert column_line(sql, "version") == "VARCHAR(50) NULL"
    assert column_line(sql, "success") == "BIT NOT NULL"
    assert column_line(sql, "installed_on") == "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
    assert column_line(sql, "script") == "VARCHAR(1000) NOT NULL"


def test_oracle_ddl() -> None:
    sql = ddl("oracle")
    # Oracle folds unquoted names to upper case; quoting the folded name is the same table.
    assert sql.strip().startswith('CREATE TABLE "SCHEMA_VERSION" (')
    assert column_line(sql, "version") == "VARCHAR2(50 CHAR)"
    assert column_line(sql, "description") == "VARCHAR2(200 CHAR) NOT NULL"
    assert column_line(sql, "installed_on") == "DATE DEFAULT CURRENT_TIMESTAMP NOT NULL"


def test_oracle_before_23_stores_success_as_a_number() -> None:
    dialect = dialect_for("oracle")
    dialect.sa_dialect.supports_native_boolean = False  # what SQLAlchemy sets for Oracle < 23
    table = history_table(parse_table_name("schema_version"), dialect)
    sql = str(CreateTable(table).compile(dialect=dialect.sa_dialect))
    assert column_line(sql, "success") == "SMALLINT NOT NULL"


def test_mysql_and_postgresql_types() -> None:
    assert column_line(ddl("mysql"), "success") == "BOOL NOT NULL"
    assert (
        column_line(ddl("mysql"), "installed_on") == "DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
    )
    assert column_line(ddl("postgresql"), "success") == "BOOLEAN NOT NULL"


def test_names_are_folded_like_an_unquoted_create_table_or_kept_when_quoted() -> None:
    assert "CREATE TABLE ops.flyway_history (" in ddl("postgresql", "OPS.Flyway_History")
    assert 'CREATE TABLE ops."History" (' in ddl("postgresql", 'ops."History"')
    assert 'CREATE TABLE "OPS"."HISTORY" (' in ddl("oracle", "ops.history")
    assert "CREATE TABLE `Audit`.`History` (" in ddl("mysql", "Audit.History")
