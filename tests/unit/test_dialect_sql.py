"""Dialect rules without a database: names, drops, literals, error classification.

For Oracle and SQL Server these are the only tests (no server here), so they pin the exact
SQL each backend gets and the classification of each driver's real exception objects.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import duckdb as DUCKDB  # a dev dependency: missing is a failure, never a skip
import pymssql
import pymysql
import pytest
from oracledb import DatabaseError as OracleDatabaseError
from oracledb import errors as oracle_errors
from psycopg import OperationalError as PGOperationalError
from psycopg import errors as pg_errors
from sqlalchemy import exc as sa_exc

from ordo.db.dialects import Dialect, ErrorKind, NamePart, TableName, dialect_for, parse_table_name
from ordo.db.dialects._timeout import cancel_after
from ordo.db.dialects.oracle import strip_sqlplus_terminator
from ordo.db.errors import classify, translate
from ordo.errors import PermanentError, StepTimeout, TransientError
from ordo.masking import Masker

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
    with pytest.raises(ValueError, match=re.escape(reason)):
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


# -- literals -------------------------------------------------------------------------------

WHEN = dt.datetime(2024, 2, 29, 13, 45, 7, 120000)
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))
MINUS_530 = dt.timezone(-dt.timedelta(hours=5, minutes=30))

LITERALS: dict[str, list[tuple[object, str]]] = {
    "postgresql": [
        ("it's", "'it''s'"),
        ("back\\slash", "'back\\slash'"),
        (True, "TRUE"),
        (dt.date(2024, 2, 29), "DATE '2024-02-29'"),
        (WHEN, "TIMESTAMP '2024-02-29 13:45:07.120000'"),
        (
            WHEN.replace(tzinfo=PLUS_TWO),
            "TIMESTAMP WITH TIME ZONE '2024-02-29 13:45:07.120000+02:00'",
        ),
    ],
    "mysql": [
        ("it's", "'it''s'"),
        ("back\\slash", "'back\\\\slash'"),
        ("end\\", "'end\\\\'"),
        ("\\'", "'\\\\'''"),
        (True, "TRUE"),
        (dt.date(2024, 2, 29), "DATE '2024-02-29'"),
        (WHEN, "TIMESTAMP '2024-02-29 13:45:07.120000'"),
    ],
    "sqlite": [
        ("it's", "'it''s'"),
        ("back\\slash", "'back\\slash'"),
        (True, "1"),
        (False, "0"),
        (dt.date(2024, 2, 29), "'2024-02-29'"),
        (WHEN, "'2024-02-29 13:45:07.120000'"),
        (WHEN.replace(tzinfo=PLUS_TWO), "'2024-02-29 13:45:07.120000+02:00'"),
    ],
    "duckdb": [
        ("it's", "'it''s'"),
        ("back\\slash", "'back\\slash'"),
        (True, "TRUE"),
        (dt.date(2024, 2, 29), "DATE '2024-02-29'"),
        (WHEN, "TIMESTAMP '2024-02-29 13:45:07.120000'"),
        (WHEN.replace(tzinfo=PLUS_TWO), "TIMESTAMPTZ '2024-02-29 13:45:07.120000+02:00'"),
    ],
    "oracle": [
        ("it's", "'it''s'"),
        ("back\\slash", "'back\\slash'"),
        (True, "1"),
        (False, "0"),
        (dt.date(2024, 2, 29), "DATE '2024-02-29'"),
        (WHEN, "TIMESTAMP '2024-02-29 13:45:07.120000'"),
        (WHEN.replace(tzinfo=PLUS_TWO), "TIMESTAMP '2024-02-29 13:45:07.120000 +02:00'"),
        (WHEN.replace(tzinfo=MINUS_530), "TIMESTAMP '2024-02-29 13:45:07.120000 -05:30'"),
    ],
    "mssql": [
        ("it's", "N'it''s'"),
        ("back\\slash", "N'back\\slash'"),
        ("日本語 🎉", "N'日本語 🎉'"),
        (True, "1"),
        (dt.date(2024, 2, 29), "CAST('2024-02-29' AS DATE)"),
        (WHEN, "CAST('2024-02-29T13:45:07.120000' AS DATETIME2)"),
        (
            WHEN.replace(tzinfo=PLUS_TWO),
            "CAST('2024-02-29T13:45:07.120000+02:00' AS DATETIMEOFFSET)",
        ),
    ],
}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [(name, value, expected) for name, cases in LITERALS.items() for value, expected in cases],
)
def test_literals(name: str, value: object, expected: str) -> None:
    assert dialect_for(name).quote_literal(value) == expected


@pytest.mark.parametrize("name", DIALECTS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "NULL"),
        (42, "42"),
        (-7, "-7"),
        (2**70, str(2**70)),
        (1.5, "1.5"),
        (1e20, "1e+20"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.50"), "-0.50"),
    ],
)
def test_numbers_and_null_are_the_same_everywhere(name: str, value: object, expected: str) -> None:
    assert dialect_for(name).quote_literal(value) == expected


@pytest.mark.parametrize("name", DIALECTS)
def test_newlines_and_unicode_stay_inside_the_literal(name: str) -> None:
    quoted = dialect_for(name).quote_literal("line\nbreak ünï 🎉")
    assert quoted.endswith("'line\nbreak ünï 🎉'")


@pytest.mark.parametrize("name", DIALECTS)
@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("nul\x00byte", ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (Decimal("NaN"), ValueError),
        (b"bytes", TypeError),
        ([1, 2], TypeError),
    ],
)
def test_unwritable_values_are_rejected(name: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        dialect_for(name).quote_literal(value)


def test_mysql_rejects_aware_datetimes() -> None:
    with pytest.raises(ValueError, match="time zone"):
        dialect_for("mariadb").quote_literal(WHEN.replace(tzinfo=PLUS_TWO))


def test_mysql_without_backslash_escapes_keeps_backslashes() -> None:
    dialect = dialect_for("mysql")
    dialect.sa_dialect._backslash_escapes = False  # what SQLAlchemy learns from sql_mode
    assert dialect.quote_literal("back\\slash") == "'back\\slash'"


# -- Oracle statement text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("SELECT 1 FROM dual;", "SELECT 1 FROM dual"),
        ("SELECT 1 FROM dual ;  \n", "SELECT 1 FROM dual"),
        ("/* c */ SELECT 1 FROM dual;", "/* c */ SELECT 1 FROM dual"),
        ("CREATE TABLE t (i NUMBER);\n/\n", "CREATE TABLE t (i NUMBER)"),
        ("CREATE VIEW v AS SELECT 1 x FROM dual;", "CREATE VIEW v AS SELECT 1 x FROM dual"),
        ("SELECT ';' FROM dual", "SELECT ';' FROM dual"),
        ("BEGIN\n  NULL;\nEND;", "BEGIN\n  NULL;\nEND;"),
        ("BEGIN\n  NULL;\nEND;\n/\n", "BEGIN\n  NULL;\nEND;"),
        ("declare x number; begin null; end;", "declare x number; begin null; end;"),
        ("-- setup\nBEGIN NULL; END;", "-- setup\nBEGIN NULL; END;"),
        (
            "CREATE OR REPLACE PROCEDURE p AS BEGIN NULL; END;",
            "CREATE OR REPLACE PROCEDURE p AS BEGIN NULL; END;",
        ),
        (
            "create or replace editionable package body k as end;",
            "create or replace editionable package body k as end;",
        ),
        (
            "CREATE TRIGGER tr BEFORE INSERT ON t BEGIN NULL; END;",
            "CREATE TRIGGER tr BEFORE INSERT ON t BEGIN NULL; END;",
        ),
    ],
)
def test_oracle_strips_sqlplus_terminators(written: str, sent: str) -> None:
    assert strip_sqlplus_terminator(written) == sent


def test_oracle_execute_sends_the_stripped_statement_without_parameters() -> None:
    conn = FakeConnection(0)
    result = dialect_for("oracle").execute(conn, "UPDATE t SET p = '100%' WHERE q = ':x';")  # type: ignore[arg-type]
    assert conn.statements == [("UPDATE t SET p = '100%' WHERE q = ':x'", {"no_parameters": True})]
    assert (result.rowcount, result.columns, result.rows) == (None, None, None)


# -- error classification -------------------------------------------------------------------


class FakePyodbcError(Exception):
    """pyodbc is not installed here; its errors are (SQLSTATE, message) tuples."""


FakePyodbcError.__module__ = "pyodbc"
ODBC = "[Microsoft][ODBC Driver 18 for SQL Server][SQL Server]"


def _pg(sqlstate: str) -> BaseException:
    error: BaseException = pg_errors.lookup(sqlstate)(f"postgres error {sqlstate}")
    return error


def _ora(message: str, *, recoverable: bool = False) -> BaseException:
    return OracleDatabaseError(oracle_errors._Error(message, isrecoverable=recoverable))


def _sqlite(message: str, code: int | None) -> BaseException:
    error = sqlite3.OperationalError(message)
    if code is not None:
        error.sqlite_errorcode = code
    return error


T, P, X = ErrorKind.TRANSIENT, ErrorKind.PERMANENT, ErrorKind.TIMEOUT

CLASSIFIED: list[tuple[str, BaseException, ErrorKind]] = [
    *[
        ("pg-" + s, _pg(s), T)
        for s in ("40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "08006", "08001")
    ],
    *[("pg-" + s, _pg(s), P) for s in ("42P01", "42601", "23505", "22012", "42501")],
    ("pg-57014", _pg("57014"), X),
    ("pg-refused", PGOperationalError("connection failed: Connection refused"), T),
    (
        "pg-closed",
        PGOperationalError("consuming input failed: server closed the connection unexpectedly"),
        T,
    ),
    ("pg-nodb", PGOperationalError('connection failed: FATAL:  database "x" does not exist'), P),
    ("pg-auth", PGOperationalError('FATAL:  password authentication failed for user "u"'), P),
    *[
        (f"my-{n}", pymysql.err.OperationalError(n, "m"), T)
        for n in (1205, 1213, 2006, 2013, 2003, 1040, 3572, 4031)
    ],
    *[(f"my-{n}", pymysql.err.OperationalError(n, "m"), X) for n in (1969, 3024)],
    ("my-1146", pymysql.err.ProgrammingError(1146, "Table 't.x' doesn't exist"), P),
    ("my-1062", pymysql.err.IntegrityError(1062, "Duplicate entry"), P),
    ("my-1045", pymysql.err.OperationalError(1045, "Access denied"), P),
    ("my-closed", pymysql.err.InterfaceError(0, ""), T),
    ("sqlite-busy", _sqlite("database is locked", 5), T),
    ("sqlite-locked", _sqlite("database table is locked", 6), T),
    ("sqlite-busy-snapshot", _sqlite("database is locked", 517), T),
    ("sqlite-interrupt", _sqlite("interrupted", 9), X),
    ("sqlite-error", _sqlite("no such table: x", 1), P),
    ("sqlite-old-locked", _sqlite("database is locked", None), T),
    ("sqlite-old-interrupt", _sqlite("interrupted", None), X),
    ("sqlite-unique", sqlite3.IntegrityError("UNIQUE constraint failed: t.id"), P),
    (
        "duck-conflict",
        DUCKDB.TransactionException("TransactionContext Error: Conflict on update!"),
        T,
    ),
    ("duck-no-tx", DUCKDB.TransactionException("cannot commit - no transaction is active"), P),
    ("duck-interrupt", DUCKDB.InterruptException("INTERRUPT Error: Interrupted!"), X),
    ("duck-file-lock", DUCKDB.IOException('IO Error: Could not set lock on file "x.duckdb"'), T),
    (
        "duck-catalog",
        DUCKDB.CatalogException("Catalog Error: Table with name x does not exist!"),
        P,
    ),
    *[
        ("ora-" + c, _ora(f"{c}: m"), T)
        for c in ("ORA-00060", "ORA-08177", "ORA-00054", "ORA-03113", "ORA-03114", "ORA-03135")
    ],
    ("ora-cancel", _ora("ORA-01013: user requested cancel of current operation"), X),
    ("ora-call-timeout", _ora("DPY-4024: call timeout of 500 ms exceeded"), X),
    ("ora-missing", _ora("ORA-00942: table or view does not exist"), P),
    ("ora-unique", _ora("ORA-00001: unique constraint violated"), P),
    ("ora-recoverable", _ora("ORA-12345: something", recoverable=True), T),
    ("mssql-deadlock", pymssql.OperationalError(1205, b"Transaction was deadlocked"), T),
    (
        "mssql-lock-timeout",
        pymssql.OperationalError(1222, b"Lock request time out period exceeded."),
        T,
    ),
    ("mssql-timeout", pymssql.OperationalError(20003, b"Adaptive Server connection timed out"), X),
    ("mssql-dead", pymssql.OperationalError(20047, b"DBPROCESS is dead or not enabled"), T),
    (
        "mssql-missing",
        pymssql.ProgrammingError(
            208,
            b"Invalid object name 'x'.DB-Lib error message 20018, severity 16:\n"
            b"General SQL Server error",
        ),
        P,
    ),
    ("mssql-unique", pymssql.IntegrityError(2627, b"Violation of PRIMARY KEY constraint"), P),
    (
        "odbc-deadlock",
        FakePyodbcError(
            "40001",
            f"{ODBC}Transaction (Process ID 52) was deadlocked. (1205) (SQLExecDirectW)",
        ),
        T,
    ),
    (
        "odbc-timeout",
        FakePyodbcError(
            "HYT00",
            "[Microsoft][ODBC Driver 18 for SQL Server]Query timeout expired (0) (SQLExecDirectW)",
        ),
        X,
    ),
    (
        "odbc-missing",
        FakePyodbcError(
            "42S02",
            f"{ODBC}Invalid object name 'x'. (208) (SQLExecDirectW)",
        ),
        P,
    ),
    ("sa-pool-timeout", sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), T),
    ("os-reset", ConnectionResetError("reset by peer"), T),
    ("other", ValueError("bug"), P),
]


@pytest.mark.parametrize(
    ("error", "kind"), [c[1:] for c in CLASSIFIED], ids=[c[0] for c in CLASSIFIED]
)
def test_classify(error: BaseException, kind: ErrorKind) -> None:
    assert classify(error) is kind


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (_pg("40P01"), "postgres error 40P01 [SQLSTATE 40P01]"),
        (
            pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"),
            "Lock wait timeout exceeded [error 1205]",
        ),
        (_sqlite("database is locked", 5), "database is locked"),
        (
            _ora("ORA-00942: table or view does not exist\nHelp: https://docs.oracle.com/x"),
            "ORA-00942: table or view does not exist",
        ),
        (
            pymssql.ProgrammingError(
                208, b"Invalid object name 'x'.DB-Lib error message 20018, severity 16:\nGeneral"
            ),
            "Invalid object name 'x'. [error 208]",
        ),
        (
            FakePyodbcError(
                "40001",
                f"{ODBC}Transaction was deadlocked. (1205) (SQLExecDirectW)",
            ),
            "Transaction was deadlocked. [error 1205]",
        ),
        (
            DUCKDB.CatalogException(
                "Catalog Error: Table x does not exist!\nDid you mean y?\n\nLINE 1: SELECT\n   ^"
            ),
            "Catalog Error: Table x does not exist! Did you mean y?",
        ),
    ],
)
def test_messages_are_readable(error: BaseException, message: str) -> None:
    assert translate(error).message == message


def _wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance(
        "SELECT secret_stuff", None, orig, Exception, connection_invalidated=invalidated
    )


def test_translate_unwraps_sqlalchemy_and_drops_its_boilerplate() -> None:
    wrapped = _wrapped(_pg("42P01"))
    assert "sqlalche.me" in str(wrapped)
    error = translate(wrapped, step="load")
    assert type(error) is PermanentError
    assert error.message == "postgres error 42P01 [SQLSTATE 42P01]"
    assert error.step == "load"


def test_invalidated_connection_is_transient() -> None:
    error = translate(_wrapped(ValueError("whatever"), invalidated=True))
    assert isinstance(error, TransientError)
    assert error.hint is not None


def test_cancelled_by_our_timeout_is_a_step_timeout() -> None:
    error = translate(_wrapped(_pg("57014")), timeout=0.5)
    assert isinstance(error, StepTimeout)
    assert "0.5 s" in error.message
    assert "timeout" in (error.hint or "")


def test_cancelled_without_our_timeout_is_permanent() -> None:
    error = translate(_pg("57014"))
    assert type(error) is PermanentError
    assert "cancelled" in error.message


def test_ordo_errors_pass_through() -> None:
    original = TransientError("already translated")
    assert translate(original) is original


def test_sqlalchemy_errors_lose_their_background_link() -> None:
    error = translate(sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"))
    assert "sqlalche.me" not in error.message
    assert error.message.startswith("QueuePool limit")


def test_messages_never_carry_passwords() -> None:
    orig = PGOperationalError(
        "could not connect to postgresql://admin:hunter22@db/x, password=hunter22"
    )
    assert "hunter22" not in translate(orig).message
    raw = pymysql.err.OperationalError(1045, "Access denied; tried pa55-w0rd-xyz")
    assert "pa55-w0rd-xyz" not in translate(raw, masker=Masker(["pa55-w0rd-xyz"])).message


# -- timeouts without a server --------------------------------------------------------------


def test_cancel_after_fires_only_while_the_block_runs() -> None:
    calls: list[str] = []
    with cancel_after(0.05, lambda: calls.append("cancel")):
        time.sleep(0.3)
    assert calls == ["cancel"]
    with cancel_after(0.1, lambda: calls.append("late")):
        pass
    time.sleep(0.2)
    assert calls == ["cancel"]


def test_cancel_after_survives_a_failing_cancel() -> None:
    def broken() -> None:
        raise RuntimeError("connection already closed")

    with cancel_after(0.01, broken):
        time.sleep(0.1)


class FakeDBAPI:
    def __init__(self) -> None:
        self.cancelled = 0
        self.timeout = 0  # pyodbc's per-connection query timeout

    def cancel(self) -> None:
        self.cancelled += 1


class FakeMssqlInner:
    query_timeout = 0


class FakePymssql:
    def __init__(self) -> None:
        self._conn = FakeMssqlInner()


class FakeTimedConnection:
    def __init__(self, dbapi: Any) -> None:
        self.connection = SimpleNamespace(dbapi_connection=dbapi)


def test_oracle_timeout_cancels_from_a_timer() -> None:
    dbapi = FakeDBAPI()
    conn = FakeTimedConnection(dbapi)
    with dialect_for("oracle").statement_timeout(conn, 0.05):  # type: ignore[arg-type]
        time.sleep(0.3)
    assert dbapi.cancelled == 1
    with dialect_for("oracle").statement_timeout(conn, None):  # type: ignore[arg-type]
        pass
    assert dbapi.cancelled == 1


@pytest.mark.parametrize("dbapi_kind", ["pymssql", "pyodbc"])
def test_mssql_timeout_sets_and_restores_the_driver_timeout(dbapi_kind: str) -> None:
    dbapi: Any = FakePymssql() if dbapi_kind == "pymssql" else FakeDBAPI()
    holder = dbapi._conn if dbapi_kind == "pymssql" else dbapi
    attribute = "query_timeout" if dbapi_kind == "pymssql" else "timeout"
    setattr(holder, attribute, 30)
    conn = FakeTimedConnection(dbapi)
    with dialect_for("mssql").statement_timeout(conn, 1.2):  # type: ignore[arg-type]
        assert getattr(holder, attribute) == 2  # whole seconds, rounded up
    assert getattr(holder, attribute) == 30
    with pytest.raises(KeyError), dialect_for("mssql").statement_timeout(conn, 0.5):  # type: ignore[arg-type]
        raise KeyError("the block failed")
    assert getattr(holder, attribute) == 30


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf")])
def test_timeouts_must_be_positive(seconds: float) -> None:
    conn = FakeTimedConnection(FakeDBAPI())
    with (
        pytest.raises(ValueError, match="positive"),
        dialect_for("sqlite").statement_timeout(conn, seconds),
    ):  # type: ignore[arg-type]
        pass
