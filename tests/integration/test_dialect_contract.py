"""The dialect contract, live: what each dialect declares holds on its real database.

Runs on every backend of ``db_url`` (SQLite, DuckDB, PostgreSQL, MariaDB). The compiled half,
for all six backends, is ``tests/unit/test_dialect_contract.py``; the older per-behaviour
checks (literals, drops, timeouts, error kinds) are ``tests/integration/test_dialects.py``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import URL, Engine, text

from ordo.db.dialects import Dialect, parse_table_name
from ordo.db.statements import split_statements
from ordo.migrations.history import history_table
from ordo.migrations.locks import migration_lock

from .test_dialects import unique_name


def test_the_probe_query_answers(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql(dialect.probe_query).scalar() == 1


def test_returns_data_tells_rows_from_statuses(engine: Engine, dialect: Dialect) -> None:
    table = unique_name("contract_rows")
    statements = {
        f"CREATE TABLE {table} (x INTEGER)": False,
        f"INSERT INTO {table} VALUES (1)": False,
        f"UPDATE {table} SET x = 2": False,
        f"SELECT x FROM {table}": True,
        f"DELETE FROM {table}": False,
        f"DROP TABLE {table}": False,
    }
    with engine.connect() as conn, conn.begin():
        for sql, data in statements.items():
            result = conn.exec_driver_sql(sql, execution_options={"no_parameters": True})
            assert dialect.returns_data(result, sql) is data, sql
            result.close()


def test_execute_reports_rows_only_for_data(engine: Engine, dialect: Dialect) -> None:
    table = unique_name("contract_execute")
    with engine.connect() as conn, conn.begin():
        assert dialect.execute(conn, f"CREATE TABLE {table} (x INTEGER)").rows is None
        inserted = dialect.execute(conn, f"INSERT INTO {table} VALUES (1)")
        assert (inserted.rows, inserted.rowcount) == (None, 1)
        assert dialect.execute(conn, f"SELECT x FROM {table}").rows == [(1,)]
        dialect.execute(conn, f"DROP TABLE {table}")


def test_savepoints_work_where_the_dialect_says_so(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn, conn.begin():
        if not dialect.supports_savepoints:
            with pytest.raises(Exception, match=r"(?i)savepoint"):
                conn.begin_nested()
            return
        savepoint = conn.begin_nested()
        conn.execute(text("SELECT 1"))
        savepoint.rollback()
        assert conn.execute(text("SELECT 2")).scalar() == 2


def test_file_detection_matches_the_database(db_url: URL, engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    path = dialect.database_file(db_url)
    assert not dialect.is_in_memory(db_url)
    assert not dialect.database_missing(db_url)
    if dialect.migration_lock == "file":
        assert path is not None
        assert path.exists()
    else:
        assert path is None
        assert dialect.single_writer_lane(db_url) is None


def test_a_missing_database_file_is_seen_before_connecting(db_url: URL, dialect: Dialect) -> None:
    """A server database exists once its URL works; a file database may not exist yet."""
    path = dialect.database_file(db_url)
    if path is None:
        assert dialect.migration_lock != "file"
        assert not dialect.database_missing(db_url)
        return
    assert not path.exists()
    assert dialect.database_missing(db_url)


def test_the_migration_lock_is_held_and_released(engine: Engine, dialect: Dialect) -> None:
    table = history_table(parse_table_name(unique_name("contract_history")), dialect)
    for _ in range(2):  # released after the first block, so the second gets it at once
        with (
            migration_lock(engine, dialect, table, lock_dir=None, timeout=5),
            engine.connect() as conn,
        ):
            assert conn.execute(text("SELECT 1")).scalar() == 1


def test_scripts_split_into_statements_the_database_runs(engine: Engine, dialect: Dialect) -> None:
    table = unique_name("contract_script")
    script = (
        f"-- a comment; with a semicolon\nCREATE TABLE {table} (x VARCHAR(20));\n"
        f"INSERT INTO {table} VALUES ('a;b');\n/* another; */ INSERT INTO {table} VALUES ('c');\n"
    )
    statements = split_statements(script, dialect.script_syntax)
    assert len(statements) == 3
    with engine.connect() as conn, conn.begin():
        for statement in statements:
            dialect.execute(conn, statement.sql, fetch=False)
        rows = conn.exec_driver_sql(f"SELECT x FROM {table} ORDER BY x").fetchall()
        assert [r[0] for r in rows] == ["a;b", "c"]
        dialect.execute(conn, f"DROP TABLE {table}")
