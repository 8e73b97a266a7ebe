"""Step options on real databases: ``cleanup_target``, ``output_file``, ``timeout``, filters.

Issue 2, points 13, 14, 15 and 19, each on SQLite, DuckDB, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine

from ordo.db.dialects import Dialect
from ordo.events import RunStatus, StepFailed
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.project import make_project
from tests.support.runs import DONE, execute, make, manifest_path, query, run, table_exists

# A query that runs far longer than any timeout used here, on each backend.
LONG_RUNNING = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 10000000000) SELECT count(*) FROM c",
    "duckdb": "SELECT sum(i) FROM range(1000000000000) t(i)",
    "postgresql": "SELECT pg_sleep(5)",
    "mariadb": "SELECT SLEEP(5)",
}


# -- 13: cleanup_target ---------------------------------------------------------------------


def columns(engine: Engine, table: str) -> list[str]:
    """The column names of ``table`` (written as SQL), lower-cased."""
    with engine.connect() as conn:
        keys = conn.exec_driver_sql(f"SELECT * FROM {table}").keys()
        names = [str(k).lower() for k in keys]
    engine.dispose()
    return names


def test_cleanup_target_drops_an_unquoted_table_before_the_step(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    """``CREATE TABLE ST_SALES`` made ``st_sales`` on PostgreSQL and ``ST_SALES`` elsewhere;
    ``cleanup_target: ST_SALES`` finds it on each, and a table that is not there is no error."""
    execute(
        engine,
        "CREATE TABLE ST_SALES (old_col INTEGER)",
        "INSERT INTO ST_SALES (old_col) VALUES (1)",
    )
    root = make(
        tmp_path,
        db_url,
        """\
        name: cleanup
        steps:
          - name: rebuild
            cleanup_target: ST_SALES
            sql: CREATE TABLE ST_SALES (new_col INTEGER)
          - name: first time
            cleanup_target: Never_Made
            sql: CREATE TABLE Never_Made (x INTEGER)
        """,
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    assert columns(engine, "ST_SALES") == ["new_col"]
    assert query(engine, "SELECT * FROM ST_SALES") == []
    assert columns(engine, "Never_Made") == ["x"]


@pytest.mark.parametrize("where", ["in the step", "later in the group"])
def test_cleanup_is_rolled_back_with_a_failed_step(
    tmp_path: Path, db_url: URL, engine: Engine, dialect: Dialect, backend: str, where: str
) -> None:
    """The DROP runs in the step's transaction: when the step (or its group) fails, the old
    table is still there, rows and all. MariaDB commits DDL at once, so there the DROP and the
    CREATE have happened for good: the old table is gone."""
    execute(
        engine,
        "CREATE TABLE ST_SALES (old_col INTEGER)",
        "INSERT INTO ST_SALES (old_col) VALUES (1)",
    )
    if where == "in the step":
        steps = """\
          - name: rebuild
            cleanup_target: ST_SALES
            sql: CREATE TABLE ST_SALES (a INTEGER, a INTEGER)
        """
    else:
        steps = """\
          - name: rebuild
            cleanup_target: ST_SALES
            sql: CREATE TABLE ST_SALES (new_col INTEGER)
            transaction_group: 1
          - name: fails
            sql: INSERT INTO nope (id) VALUES (1)
            transaction_group: 1
        """
    manifest = "name: cleanup\nallow_implicit_commit: true\nsteps:\n" + textwrap.dedent(steps)
    root = make(tmp_path, db_url, manifest)
    before = manifest_path(root).read_bytes()

    result = run(root)

    assert result.status == RunStatus.FAILED
    if backend == "mariadb":
        assert not dialect.transactional_ddl
        if where == "in the step":
            assert manifest_path(root).read_bytes() == before
            assert not table_exists(engine, "ST_SALES")
        else:  # committed by its DDL, so done (issue 9, item 2)
            assert "# Done: " in manifest_path(root).read_text()
            assert columns(engine, "ST_SALES") == ["new_col"]
    else:
        assert manifest_path(root).read_bytes() == before
        assert columns(engine, "ST_SALES") == ["old_col"]
        assert query(engine, "SELECT old_col FROM ST_SALES") == [(1,)]


@pytest.fixture
def other_schema(engine: Engine, backend: str) -> Iterator[str]:
    """A second schema (a database on MariaDB) beside the test's own, dropped after.

    SQLite has no second schema that lasts; there the name is ``main``, written explicitly.
    """
    if backend == "sqlite":
        yield "main"
        return
    name = f"other_{uuid.uuid4().hex[:10]}"
    kind = "DATABASE" if backend == "mariadb" else "SCHEMA"
    execute(engine, f"CREATE {kind} {name}")
    try:
        yield name
    finally:
        cascade = "" if backend == "mariadb" else " CASCADE"
        execute(engine, f"DROP {kind} {name}{cascade}")


def test_cleanup_target_with_a_schema_drops_only_that_schemas_table(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str, other_schema: str
) -> None:
    """``OTHER.ST_SALES`` drops the table in that schema, not the one on the search path.

    The schema is written upper-case where the database folds unquoted names (PostgreSQL);
    MariaDB database names are case-sensitive on Linux, so there it is written as created.
    """
    execute(engine, f"CREATE TABLE {other_schema}.ST_SALES (old_col INTEGER)")
    if backend != "sqlite":  # on SQLite 'main' is the search path itself
        execute(engine, "CREATE TABLE ST_SALES (untouched INTEGER)")
    written = other_schema.upper() if backend == "postgresql" else other_schema
    root = make(
        tmp_path,
        db_url,
        f"""\
        name: cleanup
        steps:
          - name: rebuild
            cleanup_target: {written}.ST_SALES
            sql: CREATE TABLE {other_schema}.ST_SALES (new_col INTEGER)
        """,
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    assert columns(engine, f"{other_schema}.ST_SALES") == ["new_col"]
    if backend != "sqlite":
        assert columns(engine, "ST_SALES") == ["untouched"]


# -- 15: output_file ------------------------------------------------------------------------

SALES = {
    "make.sql": """\
        CREATE TABLE sales (
            id INTEGER, sold_on DATE, sold_at TIMESTAMP, amount NUMERIC(10, 2), note VARCHAR(100)
        )
    """,
    "fill.sql": """\
        INSERT INTO sales (id, sold_on, sold_at, amount, note) VALUES
            (1, '2024-01-31', '2024-01-31 12:34:56', 12.50, 'Zürich, "quoted" ✓ 日本'),
            (2, '2024-02-29', '2024-02-29 23:59:59', NULL, NULL)
    """,
    "report.sql": "SELECT id, sold_on, sold_at, amount, note FROM sales ORDER BY id\n",
}
NOTE = 'Zürich, "quoted" ✓ 日本'


def test_output_files_as_csv_and_json(tmp_path: Path, db_url: URL, backend: str) -> None:
    """Dates and timestamps in ISO 8601, decimals exact, NULL empty (CSV) or null (JSON).

    SQLite has no date, time or decimal types: it stores the dates as the text inserted and
    ``NUMERIC(10, 2)`` 12.50 as the number 12.5, and the files show exactly that.
    """
    root = make(
        tmp_path,
        db_url,
        """\
        name: output
        allow_implicit_commit: true
        steps:
          - name: make
            file: make.sql
            transaction_group: load
          - name: fill
            file: fill.sql
            transaction_group: load
          - name: as csv
            file: report.sql
            output_file: results/nested/deep/sales.csv
            transaction_group: load
          - name: as json
            file: report.sql
            output_file: results/sales.json
        """,
        sql=SALES,
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    csv_path = root / "results" / "nested" / "deep" / "sales.csv"
    json_path = root / "results" / "sales.json"
    assert result.step("as csv").output_file == csv_path
    if backend == "sqlite":
        sold_at, amount = ["2024-01-31 12:34:56", "2024-02-29 23:59:59"], ("12.5", 12.5)
    else:
        sold_at, amount = ["2024-01-31T12:34:56", "2024-02-29T23:59:59"], ("12.50", 12.5)
    assert csv_path.read_text(encoding="utf-8") == (
        "id,sold_on,sold_at,amount,note\n"
        f'1,2024-01-31,{sold_at[0]},{amount[0]},"Zürich, ""quoted"" ✓ 日本"\n'
        f"2,2024-02-29,{sold_at[1]},,\n"
    )
    assert list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))[1][4] == NOTE
    text = json_path.read_text(encoding="utf-8")
    assert json.loads(text) == [
        {
            "id": 1,
            "sold_on": "2024-01-31",
            "sold_at": sold_at[0],
            "amount": amount[1],
            "note": NOTE,
        },
        {"id": 2, "sold_on": "2024-02-29", "sold_at": sold_at[1], "amount": None, "note": None},
    ]
    # a number, not a string, with the column's scale kept where the database has one
    assert f'"amount": {amount[0]},' in text
    assert "日本" in text  # not \\u-escaped
    assert list(root.rglob("*ordo-tmp*")) == []


def test_output_file_is_not_written_when_its_group_fails(tmp_path: Path, db_url: URL) -> None:
    root = make(
        tmp_path,
        db_url,
        """\
        name: output
        steps:
          - name: report
            sql: SELECT 1 AS one
            output_file: results/never.csv
            transaction_group: 1
          - name: fails
            sql: SELECT * FROM nope
            transaction_group: 1
        """,
    )

    result = run(root)

    assert result.status == RunStatus.FAILED
    assert result.step("report").status == StepStatus.ROLLED_BACK
    assert not (root / "results").exists()
    assert list(root.rglob("*ordo-tmp*")) == []


# -- 19: SQL timeouts -----------------------------------------------------------------------


def test_sql_timeout_cancels_the_statement_and_is_not_retried(
    tmp_path: Path, db_url: URL, backend: str
) -> None:
    root = make(
        tmp_path,
        db_url,
        f"""\
        name: timeout
        retry: {{base: 0.01}}
        steps:
          - name: slow
            sql: {LONG_RUNNING[backend]}
            timeout: 0.5
          - name: after
            sql: SELECT 2
        """,
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    slow = result.step("slow")
    assert slow.attempts == 1
    assert slow.error is not None
    assert slow.error.startswith("statement cancelled after the 0.5 s timeout: ")
    assert slow.duration < 4.0  # cancelled, not run to its end (pg_sleep(5), SLEEP(5), ...)
    assert recorder.sleeps == []
    [failed] = recorder.of(StepFailed)
    assert not failed.transient
    assert result.step("after").status == StepStatus.SKIPPED

    # The same manifest, fixed, runs on a fresh run: nothing of the cancelled one is left over.
    path = manifest_path(root)
    path.write_text(path.read_text().replace(LONG_RUNNING[backend], "SELECT 1"))
    again = run(root)
    assert again.status == RunStatus.SUCCESS, again.error
    assert len(DONE.findall(path.read_text())) == 2


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ],
)
def test_a_steps_timeout_does_not_outlive_the_step(
    tmp_path: Path, request: pytest.FixtureRequest, server: str
) -> None:
    """The server-side limit (``statement_timeout``, ``max_statement_time``) is put back: a
    later step on the same connection, without a timeout, may run longer than the limit."""
    url: URL = request.getfixturevalue(server)
    sleep = "SELECT pg_sleep(0.6)" if server == "postgres_url" else "SELECT SLEEP(0.6)"
    root = make(
        tmp_path,
        url,
        f"""\
        name: timeout
        steps:
          - name: quick
            sql: SELECT 1
            timeout: 0.3
          - name: longer
            sql: {sleep}
        """,
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    assert result.step("longer").duration >= 0.5


# -- 14: the literal and ident filters ------------------------------------------------------


def test_literal_and_ident_filters_round_trip(
    tmp_path: Path, db_url: URL, engine: Engine, dialect: Dialect
) -> None:
    """A value with a quote, a backslash, ``%`` and ``:name`` comes back exactly as written,
    and a table name with a space is quoted the connection's way (double quotes or backticks).
    """
    value = "O'Brien \\ said 100% :ok \\' ünï"
    root = make(
        tmp_path,
        db_url,
        """\
        name: filters
        params:
          table: '"Odd Table"'
          value: 'O''Brien \\ said 100% :ok \\'' ünï'
          n: 42
        steps:
          - name: make
            sql: CREATE TABLE {{ table | ident }} (v VARCHAR(100), n INTEGER)
          - name: fill
            sql: >-
              INSERT INTO {{ table | ident }} (v, n)
              VALUES ({{ value | literal }}, {{ n | literal }})
          - name: read back
            sql: SELECT v, n FROM {{ table | ident }} WHERE v = {{ value | literal }}
            output_file: results/back.json
        """,
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    assert json.loads((root / "results" / "back.json").read_text()) == [{"v": value, "n": 42}]
    table = dialect.quote_name('"Odd Table"')
    assert table in ('"Odd Table"', "`Odd Table`")
    assert query(engine, f"SELECT v, n FROM {table}") == [(value, 42)]


# -- a DuckDB file is let go for python steps, an in-memory one is kept ----------------------


def test_in_memory_duckdb_is_kept_across_a_python_step(tmp_path: Path) -> None:
    """The runner closes a DuckDB *file* before a python step so the script can open it;
    an in-memory database would be lost by closing, so it stays open."""
    root = make_project(
        tmp_path / "project",
        """\
        name: memory
        steps:
          - name: make
            sql: CREATE TABLE m (x INTEGER)
          - name: script
            file: noop.py
          - name: use
            sql: INSERT INTO m (x) VALUES (1)
        """,
        python={"noop.py": "print('hello')\n"},
        env="DATABASE_URL=duckdb:///:memory:\n",
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    assert result.step("use").rows == 1
