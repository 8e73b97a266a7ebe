"""The database layer against real SQLite, DuckDB, PostgreSQL and MariaDB.

Most tests run once per backend through ``db_url``; those that need a backend's own feature
(``LOCK TABLE``, ``KILL``, roles) take that backend's URL fixture directly.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ordo.config.url import masked_url, url_from_settings
from ordo.db.dialects import Dialect, dialect_for
from ordo.db.engines import EngineRegistry
from ordo.db.errors import translate
from ordo.errors import ExecutionError, PermanentError, StepTimeout, TransientError
from tests.support.db import unique_name

LONG_RUNNING = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 10000000000) SELECT count(*) FROM c",
    "duckdb": "SELECT sum(i) FROM range(1000000000000) t(i)",
    "postgresql": "SELECT pg_sleep(5)",
    "mariadb": "SELECT SLEEP(5)",
}
CURRENT_SCHEMA = {
    "sqlite": "SELECT 'main'",
    "duckdb": "SELECT current_schema()",
    "postgresql": "SELECT current_schema()",
    "mariadb": "SELECT DATABASE()",
}


def translated(action: Callable[[], object], *, timeout: float | None = None) -> ExecutionError:
    """Run ``action``, which must fail, and return its error as ``translate`` sees it."""
    try:
        action()
    except Exception as exc:
        return translate(exc, timeout=timeout)
    pytest.fail("expected the statement to fail")


def run(engine: Engine, dialect: Dialect, *statements: str) -> None:
    with engine.begin() as conn:
        for sql in statements:
            dialect.execute(conn, sql)


def table_exists(engine: Engine, dialect: Dialect, name_sql: str) -> bool:
    with engine.connect() as conn:
        try:
            dialect.execute(conn, f"SELECT 1 FROM {name_sql} WHERE 1 = 0")
        except DBAPIError:
            return False
        return True


# -- execute --------------------------------------------------------------------------------


def test_percent_and_colon_are_not_placeholders(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn:
        result = dialect.execute(conn, "SELECT '100%' AS p, ':x' AS q, '%s %(y)s ?' AS r")
    assert result.columns == ("p", "q", "r")
    assert result.rows == [("100%", ":x", "%s %(y)s ?")]


@pytest.mark.postgres
def test_postgres_casts_and_do_blocks_run_whole(
    postgres_url: URL, registry: EngineRegistry
) -> None:
    engine = registry.get(postgres_url)
    dialect = dialect_for(engine)
    with engine.begin() as conn:
        assert dialect.execute(conn, "SELECT 'a'::text AS t, '1'::int + 1 AS n").rows == [("a", 2)]
        block = (
            "DO $$ BEGIN CREATE TABLE made_in_do (p text); INSERT INTO made_in_do "
            "VALUES ('50%'); END $$;"
        )
        assert dialect.execute(conn, block).rows is None
        assert dialect.execute(conn, "SELECT p FROM made_in_do").rows == [("50%",)]


def test_rowcount_columns_and_rows(engine: Engine, dialect: Dialect) -> None:
    with engine.begin() as conn:
        created = dialect.execute(conn, "CREATE TABLE counted (i int)")
        inserted = dialect.execute(conn, "INSERT INTO counted VALUES (1), (2), (3)")
        updated = dialect.execute(conn, "UPDATE counted SET i = i + 10 WHERE i > 1")
        selected = dialect.execute(conn, "SELECT i FROM counted ORDER BY i")
        unfetched = dialect.execute(conn, "SELECT i FROM counted", fetch=False)
    assert created.rows is None
    assert created.columns is None
    assert (inserted.rowcount, inserted.rows) == (3, None)
    assert (updated.rowcount, updated.rows) == (2, None)
    assert selected.columns == ("i",)
    assert selected.rows == [(1,), (12,), (13,)]
    assert unfetched.columns == ("i",)
    assert unfetched.rows is None


# -- dropping tables ------------------------------------------------------------------------


def test_drop_absent_table_is_quiet(engine: Engine, dialect: Dialect) -> None:
    with engine.begin() as conn:
        schema = dialect.execute(conn, CURRENT_SCHEMA[dialect.name]).rows[0][0]  # type: ignore[index]
        dialect.drop_table_if_exists(conn, dialect.parse_table_name("no_such_table"))
        dialect.drop_table_if_exists(conn, dialect.parse_table_name(f"{schema}.no_such_table"))


def test_drop_present_table(engine: Engine, dialect: Dialect) -> None:
    run(engine, dialect, "CREATE TABLE doomed (i int)")
    with engine.begin() as conn:
        dialect.drop_table_if_exists(conn, dialect.parse_table_name("doomed"))
    assert not table_exists(engine, dialect, "doomed")


def test_drop_with_schema(engine: Engine, dialect: Dialect) -> None:
    run(engine, dialect, "CREATE TABLE ST_SCHEMA_Q (i int)")
    with engine.begin() as conn:
        schema = dialect.execute(conn, CURRENT_SCHEMA[dialect.name]).rows[0][0]  # type: ignore[index]
        dialect.drop_table_if_exists(conn, dialect.parse_table_name(f"{schema}.ST_SCHEMA_Q"))
    assert not table_exists(engine, dialect, "ST_SCHEMA_Q")


def test_unquoted_name_finds_table_created_unquoted(engine: Engine, dialect: Dialect) -> None:
    run(engine, dialect, "CREATE TABLE ST_SALES (i int)")
    assert table_exists(engine, dialect, "ST_SALES")
    with engine.begin() as conn:
        dialect.drop_table_if_exists(conn, dialect.parse_table_name("ST_SALES"))
    assert not table_exists(engine, dialect, "ST_SALES")


def test_quoted_name_is_kept_exactly(engine: Engine, dialect: Dialect) -> None:
    quoted = dialect.quote_name('"Mixed Case"')
    run(engine, dialect, f"CREATE TABLE {quoted} (i int)")
    assert table_exists(engine, dialect, quoted)
    with engine.begin() as conn:
        dialect.drop_table_if_exists(conn, dialect.parse_table_name('"Mixed Case"'))
    assert not table_exists(engine, dialect, quoted)


def test_rolled_back_group_leaves_no_table(engine: Engine, dialect: Dialect) -> None:
    run(engine, dialect, "CREATE TABLE kept (i int)")
    with engine.connect() as conn:
        dialect.drop_table_if_exists(conn, dialect.parse_table_name("kept"))
        dialect.execute(conn, "CREATE TABLE made_then_undone (i int)")
        dialect.execute(conn, "INSERT INTO made_then_undone VALUES (1)")
        conn.rollback()
    # Transactional DDL undoes both; MariaDB has already committed them, as documented.
    assert table_exists(engine, dialect, "kept") is dialect.transactional_ddl
    assert table_exists(engine, dialect, "made_then_undone") is not dialect.transactional_ddl


# -- literals -------------------------------------------------------------------------------

STRINGS = [
    "plain",
    "it's",
    "''",
    "back\\slash",
    "trailing backslash\\",
    "\\'",
    "50% :x ? $1 {x}",
    "ünïcödé 日本語 🎉",
    "line\nbreak\r\n\ttab",
    "",
]


def test_string_literals_round_trip(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn:
        for value in STRINGS:
            result = dialect.execute(conn, f"SELECT {dialect.quote_literal(value)} AS v")
            assert result.rows == [(value,)], value


def _comparable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float | Decimal):
        return Decimal(str(value))
    return str(value)


def test_other_literals_round_trip(engine: Engine, dialect: Dialect) -> None:
    values = [
        None,
        0,
        -42,
        2**40,
        1.5,
        Decimal("12.345"),
        True,
        False,
        dt.date(2024, 2, 29),
        dt.datetime(2024, 2, 29, 13, 45, 7, 120000),
    ]
    with engine.connect() as conn:
        for value in values:
            rows = dialect.execute(conn, f"SELECT {dialect.quote_literal(value)} AS v").rows
            assert rows is not None
            assert _comparable(rows[0][0]) == _comparable(value), value


@pytest.mark.postgres
def test_postgres_aware_datetime_keeps_its_instant(
    postgres_url: URL, registry: EngineRegistry
) -> None:
    engine = registry.get(postgres_url)
    dialect = dialect_for(engine)
    value = dt.datetime(2024, 2, 29, 13, 45, 7, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with engine.connect() as conn:
        rows = dialect.execute(conn, f"SELECT {dialect.quote_literal(value)} AS v").rows
    assert rows == [(value,)]


# -- timeouts -------------------------------------------------------------------------------


def test_timeout_cancels_and_connection_stays_usable(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn:

        def long_statement() -> None:
            with dialect.statement_timeout(conn, 0.5):
                dialect.execute(conn, LONG_RUNNING[dialect.name])

        started = time.monotonic()
        error = translated(long_statement, timeout=0.5)
        elapsed = time.monotonic() - started
        assert isinstance(error, StepTimeout), error
        assert "0.5 s" in str(error)
        assert elapsed < 4
        conn.rollback()
        assert dialect.execute(conn, "SELECT 1 AS one").rows == [(1,)]


def test_fast_statement_is_not_cancelled_later(engine: Engine, dialect: Dialect) -> None:
    with engine.connect() as conn:
        with dialect.statement_timeout(conn, 0.2):
            dialect.execute(conn, "SELECT 1 AS one")
        time.sleep(0.4)  # a timer that outlived the block would fire now
        assert dialect.execute(conn, "SELECT 2 AS two").rows == [(2,)]
        with dialect.statement_timeout(conn, None):
            assert dialect.execute(conn, "SELECT 3 AS three").rows == [(3,)]


@pytest.mark.postgres
@pytest.mark.parametrize("autocommit", [False, True], ids=["transaction", "autocommit"])
def test_postgres_timeout_setting_is_restored(
    postgres_url: URL, registry: EngineRegistry, autocommit: bool
) -> None:
    engine = registry.get(postgres_url)
    if autocommit:
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    dialect = dialect_for(engine)
    show = "SELECT current_setting('statement_timeout') AS t"
    with engine.connect() as conn:
        before = dialect.execute(conn, show).rows
        with dialect.statement_timeout(conn, 1.5):
            assert dialect.execute(conn, show).rows == [("1500ms",)]
        assert dialect.execute(conn, show).rows == before


@pytest.mark.mariadb
def test_mariadb_timeout_setting_is_restored(mariadb_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(mariadb_url)
    dialect = dialect_for(engine)
    show = "SELECT @@SESSION.max_statement_time AS t"
    with engine.connect() as conn:
        before = dialect.execute(conn, show).rows
        with dialect.statement_timeout(conn, 0.75):
            assert dialect.execute(conn, show).rows == [(0.75,)]
        assert dialect.execute(conn, show).rows == before
        assert dialect.name == "mariadb"


# -- error classification with real failures ------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "statement"),
    [
        ((), "SELEC 1"),
        ((), "SELECT * FROM no_such_table"),
        (
            ("CREATE TABLE uniq (id int PRIMARY KEY)", "INSERT INTO uniq VALUES (1)"),
            "INSERT INTO uniq VALUES (1)",
        ),
    ],
    ids=["syntax", "missing-table", "unique-violation"],
)
def test_permanent_errors(
    engine: Engine, dialect: Dialect, setup: tuple[str, ...], statement: str
) -> None:
    run(engine, dialect, *setup)
    with engine.connect() as conn:
        error = translated(lambda: dialect.execute(conn, statement))
    assert type(error) is PermanentError, error
    assert "sqlalche.me" not in str(error)
    assert "[SQL:" not in str(error)
    assert "\n" not in error.message


def _holding(engine: Engine) -> tuple[Connection, Connection]:
    return engine.connect(), engine.connect()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("hold", "wait"),
    [
        (
            "LOCK TABLE locked IN ACCESS EXCLUSIVE MODE",
            "SELECT * FROM locked",
        ),
        (
            "SELECT * FROM locked WHERE id = 1 FOR UPDATE",
            "SELECT * FROM locked WHERE id = 1 FOR UPDATE NOWAIT",
        ),
    ],
    ids=["lock-timeout", "nowait"],
)
def test_postgres_lock_conflict_is_transient(
    postgres_url: URL, registry: EngineRegistry, hold: str, wait: str
) -> None:
    engine = registry.get(postgres_url)
    dialect = dialect_for(engine)
    run(
        engine, dialect, "CREATE TABLE locked (id int PRIMARY KEY)", "INSERT INTO locked VALUES (1)"
    )
    holder, waiter = _holding(engine)
    with holder, waiter:
        dialect.execute(holder, hold)
        dialect.execute(waiter, "SET LOCAL lock_timeout = '200ms'")
        error = translated(lambda: dialect.execute(waiter, wait))
    assert isinstance(error, TransientError), error


@pytest.mark.postgres
def test_postgres_deadlock_is_transient(postgres_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(postgres_url)
    dialect = dialect_for(engine)
    run(
        engine,
        dialect,
        "CREATE TABLE pair (id int PRIMARY KEY, v int)",
        "INSERT INTO pair VALUES (1, 0), (2, 0)",
    )
    errors: list[ExecutionError] = []

    def update(conn: Connection, row: int) -> None:
        try:
            dialect.execute(conn, f"UPDATE pair SET v = 1 WHERE id = {row}")
        except Exception as exc:
            errors.append(translate(exc))

    first, second = _holding(engine)
    with first, second:
        update(first, 1)
        update(second, 2)
        crossing = threading.Thread(target=update, args=(first, 2))
        crossing.start()
        time.sleep(0.3)  # let the first wait on row 2 before the second asks for row 1
        update(second, 1)
        crossing.join(timeout=30)
        first.rollback()
        second.rollback()
    assert len(errors) == 1, errors
    assert isinstance(errors[0], TransientError), errors
    assert "40P01" in str(errors[0])


@pytest.mark.postgres
def test_postgres_lost_connection_is_transient(postgres_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(postgres_url)
    dialect = dialect_for(engine)
    victim, killer = _holding(engine)
    with victim, killer:
        pid = dialect.execute(victim, "SELECT pg_backend_pid() AS pid").rows[0][0]  # type: ignore[index]
        dialect.execute(killer, f"SELECT pg_terminate_backend({int(pid)})")
        error = translated(lambda: dialect.execute(victim, "SELECT 1"))
    assert isinstance(error, TransientError), error
    with engine.connect() as conn:  # the pool replaced the dead connection
        assert dialect.execute(conn, "SELECT 1 AS one").rows == [(1,)]


@pytest.mark.mariadb
def test_mariadb_lock_wait_timeout_is_transient(mariadb_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(mariadb_url)
    dialect = dialect_for(engine)
    run(
        engine,
        dialect,
        "CREATE TABLE locked (id int PRIMARY KEY, v int) ENGINE=InnoDB",
        "INSERT INTO locked VALUES (1, 0)",
    )
    holder, waiter = _holding(engine)
    with holder, waiter:
        dialect.execute(holder, "UPDATE locked SET v = 1 WHERE id = 1")
        dialect.execute(waiter, "SET SESSION innodb_lock_wait_timeout = 1")
        error = translated(lambda: dialect.execute(waiter, "UPDATE locked SET v = 2 WHERE id = 1"))
    assert isinstance(error, TransientError), error
    assert "1205" in str(error)


@pytest.mark.mariadb
def test_mariadb_killed_connection_is_transient(mariadb_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(mariadb_url)
    dialect = dialect_for(engine)
    victim, killer = _holding(engine)
    with victim, killer:
        conn_id = dialect.execute(victim, "SELECT CONNECTION_ID() AS id").rows[0][0]  # type: ignore[index]
        dialect.execute(killer, f"KILL CONNECTION {int(conn_id)}")
        error = translated(lambda: dialect.execute(victim, "SELECT 1"))
    assert isinstance(error, TransientError), error


def test_sqlite_locked_database_is_transient(sqlite_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(sqlite_url.update_query_dict({"timeout": "0.2"}))
    dialect = dialect_for(engine)
    run(engine, dialect, "CREATE TABLE locked (id int)")
    holder, waiter = _holding(engine)
    with holder, waiter:
        dialect.execute(holder, "INSERT INTO locked VALUES (1)")  # holds the write lock
        started = time.monotonic()
        error = translated(lambda: dialect.execute(waiter, "INSERT INTO locked VALUES (2)"))
        assert time.monotonic() - started < 3
    assert isinstance(error, TransientError), error
    assert "locked" in str(error)


def test_duckdb_write_conflict_is_transient(duckdb_url: URL, registry: EngineRegistry) -> None:
    engine = registry.get(duckdb_url)
    dialect = dialect_for(engine)
    run(
        engine,
        dialect,
        "CREATE TABLE contested (id int PRIMARY KEY, v int)",
        "INSERT INTO contested VALUES (1, 0)",
    )
    first, second = _holding(engine)
    with first, second:
        dialect.execute(first, "UPDATE contested SET v = 1 WHERE id = 1")
        error = translated(
            lambda: dialect.execute(second, "UPDATE contested SET v = 2 WHERE id = 1")
        )
    assert isinstance(error, TransientError), error


# -- URLs with awkward passwords ------------------------------------------------------------

AWKWARD_PASSWORD = "p@ss:w/o%rd#1 ?&=+"


@pytest.mark.postgres
def test_postgres_password_with_special_characters(
    postgres_server: URL, registry: EngineRegistry, tmp_path: Path
) -> None:
    admin = registry.get(postgres_server)
    dialect = dialect_for(admin)
    role = unique_name("ordo_role")
    run(
        admin,
        dialect,
        f"CREATE ROLE {dialect.quote_name(role)} LOGIN PASSWORD "
        f"{dialect.quote_literal(AWKWARD_PASSWORD)}",
    )
    try:
        settings = {
            "DB_DIALECT": "postgresql+psycopg2",
            "DB_HOST": postgres_server.host or "127.0.0.1",
            "DB_PORT": str(postgres_server.port or 5432),
            "DB_USER": role,
            "DB_PASS": AWKWARD_PASSWORD,
            "DB_SERVICE": postgres_server.database or "test",
        }
        url = url_from_settings(settings, base_dir=tmp_path)
        rendered = url.render_as_string(hide_password=False)
        assert make_url(rendered).password == AWKWARD_PASSWORD
        assert AWKWARD_PASSWORD not in masked_url(url)
        engine = registry.get(rendered)
        with engine.connect() as conn:
            assert dialect.execute(conn, "SELECT current_user AS u").rows == [(role,)]
            assert dialect.execute(
                conn, "SELECT current_setting('application_name') AS a"
            ).rows == [("ordo",)]
        engine.dispose()
    finally:
        run(admin, dialect, f"DROP ROLE {dialect.quote_name(role)}")


@pytest.mark.mariadb
def test_mariadb_password_with_special_characters(
    mariadb_url: URL, registry: EngineRegistry, tmp_path: Path
) -> None:
    admin = registry.get(mariadb_url)
    dialect = dialect_for(admin)
    user = unique_name("ordo_user")
    account = f"{dialect.quote_literal(user)}@'%'"
    run(
        admin,
        dialect,
        f"CREATE USER {account} IDENTIFIED BY {dialect.quote_literal(AWKWARD_PASSWORD)}",
        f"GRANT ALL ON {dialect.quote_name(mariadb_url.database or '')}.* TO {account}",
    )
    try:
        settings = {
            "DB_DIALECT": "mariadb",
            "DB_HOST": mariadb_url.host or "127.0.0.1",
            "DB_PORT": str(mariadb_url.port or 3306),
            "DB_USER": user,
            "DB_PASS": AWKWARD_PASSWORD,
            "DB_SERVICE": mariadb_url.database or "",
        }
        url = url_from_settings(settings, base_dir=tmp_path)
        engine = registry.get(url)
        with engine.connect() as conn:  # MariaDB checks the password, so this proves escaping
            rows = dialect.execute(conn, "SELECT CURRENT_USER() AS u").rows
        assert rows == [(f"{user}@%",)]
        engine.dispose()
        wrong = registry.get(url.set(password=AWKWARD_PASSWORD + "x"))
        error = translated(wrong.connect)
        assert isinstance(error, PermanentError), error
        assert "1045" in str(error)
        assert AWKWARD_PASSWORD not in str(error)
        wrong.dispose()
    finally:
        run(admin, dialect, f"DROP USER {account}")


# -- the engine registry --------------------------------------------------------------------


def test_registry_keeps_one_engine_per_url(tmp_path: Path) -> None:
    first = URL.create("sqlite", database=str(tmp_path / "a.db"))
    second = URL.create("sqlite", database=str(tmp_path / "b.db"))
    with EngineRegistry() as registry:
        engines: list[Engine] = []
        threads = [
            threading.Thread(target=lambda: engines.append(registry.get(first))) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({id(engine) for engine in engines}) == 1
        assert registry.get(first.render_as_string()) is engines[0]
        assert registry.get(second) is not engines[0]
        assert len(registry) == 2
    assert len(registry) == 0
