"""Dialect rules without a database: names, drops, literals, error classification.

For Oracle and SQL Server these are the only tests (no server here), so they pin the exact
SQL each backend gets and the classification of each driver's real exception objects.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from typing import Any

import pymssql
import pymysql
import pytest
from oracledb import DatabaseError as OracleDatabaseError
from oracledb import errors as oracle_errors
from psycopg import OperationalError as PGOperationalError
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

from ordo.db.dialects import Dialect, ErrorKind, NamePart, TableName, dialect_for, parse_table_name
from ordo.db.dialects.oracle import strip_sqlplus_terminator
from ordo.db.errors import classify, translate
from ordo.errors import PermanentError, StepTimeout, TransientError
from ordo.secrets import Masker

DIALECTS = ["postgresql", "mysql", "sqlite", "duckdb", "oracle", "mssql"]

# -- parsing names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ST_SALES", TableName(NamePart("ST_SALES"))),
        ("  st_sales  ", TableName(NamePart("st_sales"))),
        ("stage.ST_SALES", TableName(NamePart("ST_SALES"), NamePart("stage"))),
        ('"Mixed Case"', TableName(NamePart("Mixed Case", quoted=True))),
        ('stage."My Table"', TableName(NamePart("My Table", True), NamePart("stage"))),
        ('"we""ird".t', TableName(NamePart("t"), NamePart('we"ird', True))),
        ('"a.b"', TableName(NamePart("a.b", True))),
        ("_tmp$1#", TableName(NamePart("_tmp$1#"))),
    ],
)
def test_parse_table_name(text: str, expected: TableName) -> None:
    assert parse_table_name(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1abc", "unexpected '1'"),
        ("st sales", "unexpected ' '"),
        ("t; DROP TABLE x", "unexpected ';'"),
        ("a.b.c", "3 parts"),
        ("a.", "end of text"),
        (".a", "unexpected '.'"),
        ('"open', "never ends"),
        ('""', "empty quoted name"),
        ('"a"b', "unexpected 'b'"),
        ("t--", "unexpected '-'"),
        ('"nul\x00"', "NUL"),
        ("`t`", "unexpected '`'"),
        ("[t]", "unexpected '['"),
    ],
)
def test_parse_table_name_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        parse_table_name(text)


def test_table_name_prints_as_written() -> None:
    assert str(parse_table_name('stage."we""ird"')) == 'stage."we""ird"'


# -- quoting and folding --------------------------------------------------------------------

QUOTED = {
    "ST_SALES": {
        "postgresql": '"st_sales"',
        "mysql": "`ST_SALES`",
        "sqlite": '"ST_SALES"',
        "duckdb": '"ST_SALES"',
        "oracle": '"ST_SALES"',
        "mssql": "[ST_SALES]",
    },
    "stage.St_Sales": {
        "postgresql": '"stage"."st_sales"',
        "mysql": "`stage`.`St_Sales`",
        "sqlite": '"stage"."St_Sales"',
        "duckdb": '"stage"."St_Sales"',
        "oracle": '"STAGE"."ST_SALES"',
        "mssql": "[stage].[St_Sales]",
    },
    '"Mixed Case"': {
        "postgresql": '"Mixed Case"',
        "mysql": "`Mixed Case`",
        "sqlite": '"Mixed Case"',
        "duckdb": '"Mixed Case"',
        "oracle": '"Mixed Case"',
        "mssql": "[Mixed Case]",
    },
    '"a""b`c]d"': {
        "postgresql": '"a""b`c]d"',
        "mysql": '`a"b``c]d`',
        "sqlite": '"a""b`c]d"',
        "duckdb": '"a""b`c]d"',
        "oracle": '"a""b`c]d"',
        "mssql": '[a"b`c]]d]',
    },
    "select": {
        "postgresql": '"select"',
        "mysql": "`select`",
        "sqlite": '"select"',
        "duckdb": '"select"',
        "oracle": '"SELECT"',
        "mssql": "[select]",
    },
}


@pytest.mark.parametrize("name", DIALECTS)
@pytest.mark.parametrize("text", list(QUOTED))
def test_quote_table_folds_then_always_quotes(name: str, text: str) -> None:
    dialect = dialect_for(name)
    assert dialect.quote_table(dialect.parse_table_name(text)) == QUOTED[text][name]
    assert dialect.quote_name(text) == QUOTED[text][name]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgresql", 'DROP TABLE IF EXISTS "stage"."st_sales"'),
        ("mysql", "DROP TABLE IF EXISTS `stage`.`ST_SALES`"),
        ("sqlite", 'DROP TABLE IF EXISTS "stage"."ST_SALES"'),
        ("duckdb", 'DROP TABLE IF EXISTS "stage"."ST_SALES"'),
        ("oracle", 'DROP TABLE "STAGE"."ST_SALES" PURGE'),
        ("mssql", "DROP TABLE IF EXISTS [stage].[ST_SALES]"),
    ],
)
def test_drop_statements(name: str, expected: str) -> None:
    dialect = dialect_for(name)
    assert dialect.drop_table_sql(parse_table_name("stage.ST_SALES")) == expected


def _compiled(dialect: Dialect, table: str) -> str:
    query = dialect.table_exists_query(parse_table_name(table))
    assert query is not None
    text = str(query.compile(dialect=dialect.sa_dialect, compile_kwargs={"literal_binds": True}))
    return " ".join(text.split())


def test_oracle_looks_in_the_catalog_first() -> None:
    oracle = dialect_for("oracle")
    assert _compiled(oracle, "stage.ST_SALES") == (
        "SELECT count(*) AS count_1 FROM all_tables WHERE all_tables.owner = 'STAGE' "
        "AND all_tables.table_name = 'ST_SALES'"
    )
    assert _compiled(oracle, '"My Table"') == (
        "SELECT count(*) AS count_1 FROM all_tables WHERE all_tables.owner = "
        "sys_context('USERENV', 'CURRENT_SCHEMA') AND all_tables.table_name = 'My Table'"
    )


@pytest.mark.parametrize("name", ["postgresql", "mysql", "sqlite", "duckdb", "mssql"])
def test_other_dialects_drop_without_looking(name: str) -> None:
    assert dialect_for(name).table_exists_query(parse_table_name("t")) is None


class FakeResult:
    rowcount = -1
    returns_rows = False

    def __init__(self, value: Any = None) -> None:
        self.value = value

    def scalar(self) -> Any:
        return self.value

    def close(self) -> None:
        pass


class FakeConnection:
    """Records what a dialect sends; answers catalog queries with ``count``."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.queries: list[Any] = []
        self.statements: list[tuple[str, Any]] = []

    def execute(self, query: Any) -> FakeResult:
        self.queries.append(query)
        return FakeResult(self.count)

    def exec_driver_sql(self, sql: str, execution_options: Any = None) -> FakeResult:
        self.statements.append((sql, execution_options))
        return FakeResult()


@pytest.mark.parametrize(("count", "dropped"), [(0, []), (1, ['DROP TABLE "ST_X" PURGE'])])
def test_oracle_drops_only_what_exists(count: int, dropped: list[str]) -> None:
    conn = FakeConnection(count)
    dialect_for("oracle").drop_table_if_exists(conn, parse_table_name("ST_X"))  # type: ignore[arg-type]
    assert len(conn.queries) == 1
    assert [sql for sql, _ in conn.statements] == dropped


def test_drop_runs_unparameterized() -> None:
    conn = FakeConnection(0)
    dialect_for("mssql").drop_table_if_exists(conn, parse_table_name('"100% :x"'))  # type: ignore[arg-type]
    assert conn.queries == []
    assert conn.statements == [("DROP TABLE IF EXISTS [100% :x]", {"no_parameters": True})]


def test_transactional_ddl_flags() -> None:
    flags = {name: dialect_for(name).transactional_ddl for name in DIALECTS}
    assert flags == {
        "postgresql": True,
        "mysql": False,
        "sqlite": True,
        "duckdb": True,
        "oracle": False,
        "mssql": True,
    }


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("postgres", "postgresql"),
        ("postgresql+psycopg2", "postgresql"),
        ("sqlserver", "mssql"),
        ("mariadb", "mariadb"),
        ("mysql+pymysql", "mysql"),
        ("oracle+cx_oracle", "oracle"),
    ],
)
def test_dialect_for_names(written: str, name: str) -> None:
    assert dialect_for(written).name == name


def test_dialect_for_unknown() -> None:
    with pytest.raises(ValueError, match="db2"):
        dialect_for("db2")
