"""``DatabaseManager`` (seed 001's query API) against real SQLite, DuckDB, PostgreSQL, MariaDB.

Each manager is built from seed 001 settings (``DEVELOPMENT_GLOBAL_<NAME>_CONNECTION_STRING``
holding the test database's URL, with a password where the server ignores it) and a project
root in ``tmp_path``, and is closed by the test so no pooled connection outlives its database.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, create_engine, event, text
from sqlalchemy.pool import NullPool

import ordo
from ordo.api.database_manager import DatabaseManager
from ordo.config import Settings
from ordo.errors import ConfigError, PermanentError, StepTimeout, TransientError
from tests.support.managers import PASSWORD, manager_for, with_password
from tests.support.net import TcpProxy

LONG_RUNNING = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 10000000000) SELECT count(*) AS n FROM c",
    "duckdb": "SELECT sum(i) AS n FROM range(1000000000000) t(i)",
    "postgresql": "SELECT pg_sleep(30) AS n",
    "mysql": "SELECT SLEEP(30) AS n",
}
INJECTION = "O'Brien'; DROP TABLE x; --"


def backend(db: DatabaseManager) -> str:
    return db.engine.dialect.name


def direct_rows(url: URL, sql: str) -> list[Any]:
    """Rows read over a connection of its own, outside every ordo pool."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def db(tmp_path: Path, db_url: URL) -> Iterator[DatabaseManager]:
    with manager_for(tmp_path, with_password(db_url)) as manager:
        yield manager


# -- settings into a manager -----------------------------------------------------------------


def test_manager_uses_the_named_connection(db: DatabaseManager, db_url: URL) -> None:
    assert db.database_name == "t"
    assert db.connection.source == "DEVELOPMENT_GLOBAL_T_CONNECTION_STRING"
    assert db.engine.url.database == db_url.database
    assert PASSWORD not in repr(db)


def test_manager_is_exported_and_reads_the_project(tmp_path: Path) -> None:
    (tmp_path / "core" / "envs").mkdir(parents=True)
    (tmp_path / "core" / "envs" / ".env.development").write_text(
        "DEVELOPMENT_GLOBAL_SURVEYHUB_TYPE=sqlite\n"
        "DEVELOPMENT_GLOBAL_SURVEYHUB_CONNECTION_STRING=sqlite:///data/hub.db\n",
        encoding="utf-8",
    )
    (tmp_path / "data").mkdir()
    with ordo.DatabaseManager("SurveyHub", project=tmp_path) as hub:
        assert hub.execute_query("SELECT 1 AS one") == [{"one": 1}]
        assert hub.database_name == "surveyhub"
    assert (tmp_path / "data" / "hub.db").is_file()


def test_missing_connection_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path, environ={})
    with pytest.raises(ConfigError, match="DEVELOPMENT_GLOBAL_NOPE_CONNECTION_STRING"):
        DatabaseManager("nope", settings=settings)


# -- execute_query ---------------------------------------------------------------------------


def test_execute_query_returns_dicts_with_bound_parameters(db: DatabaseManager) -> None:
    db.execute_query("CREATE TABLE x (id INTEGER)")
    db.execute_query("CREATE TABLE people (id INTEGER PRIMARY KEY, name VARCHAR(100))")
    assert (
        db.execute_query("INSERT INTO people VALUES (:id, :name)", {"id": 1, "name": INJECTION})
        == []
    )
    db.execute_query("INSERT INTO people VALUES (:id, :name)", {"id": 2, "name": "50% :off"})
    rows = db.execute_query("SELECT id, name FROM people WHERE name = :name", {"name": INJECTION})
    assert rows == [{"id": 1, "name": INJECTION}]
    rows = db.execute_query("SELECT id, name FROM people ORDER BY id")
    assert rows == [{"id": 1, "name": INJECTION}, {"id": 2, "name": "50% :off"}]
    assert db.execute_query("SELECT count(*) AS n FROM x") == [{"n": 0}]  # x was not dropped


def test_statements_without_rows_return_an_empty_list(db: DatabaseManager) -> None:
    """Also on DuckDB, which answers INSERT with a ``Count`` row and CREATE with ``Success``."""
    assert db.execute_query("CREATE TABLE t1 (id INTEGER)") == []
    assert db.execute_query("INSERT INTO t1 VALUES (1), (2)") == []
    assert db.execute_query("INSERT INTO t1 VALUES (:v)", {"v": 3}) == []
    assert db.execute_query("UPDATE t1 SET id = id + 10 WHERE id > :v", {"v": 1}) == []
    assert db.execute_query("DELETE FROM t1 WHERE id = 1") == []
    assert db.fetch("DELETE FROM t1 WHERE id > :v", {"v": 0}).rowcount == 2
    assert db.execute_query("DROP TABLE t1") == []


def test_insert_returning_gives_rows(db: DatabaseManager) -> None:
    # every backend here has RETURNING (MariaDB since 10.5; MySQL would not)
    db.execute_query("CREATE TABLE r (id INTEGER)")
    assert db.execute_query("INSERT INTO r VALUES (:v) RETURNING id", {"v": 7}) == [{"id": 7}]


def test_a_write_is_committed(db: DatabaseManager, db_url: URL) -> None:
    db.execute_query("CREATE TABLE w (id INTEGER)")
    db.execute_query("INSERT INTO w VALUES (:v)", {"v": 41})
    db.execute_query("UPDATE w SET id = id + 1")
    db.close()  # DuckDB: one process at a time per file, so let go before reading directly
    assert direct_rows(db_url, "SELECT id FROM w") == [(42,)]


def test_a_failed_statement_leaves_the_manager_usable(db: DatabaseManager) -> None:
    with pytest.raises(PermanentError) as caught:
        db.execute_query("SELECT * FROM no_such_table")
    assert "no_such_table" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert db.execute_query("SELECT 2 AS two") == [{"two": 2}]
    assert db.get_pool_status()["checked_out"] == 0


# -- execute_query_with_timeout --------------------------------------------------------------


def test_timeout_cancels_at_the_server_and_the_connection_works_after(
    tmp_path: Path, db_url: URL
) -> None:
    marker = f"ordo_{uuid.uuid4().hex[:10]}"
    url = db_url
    if db_url.get_backend_name() == "postgresql":
        url = db_url.update_query_dict({"application_name": marker})
    # One connection only: the query after the timeout must run on the cancelled one.
    with manager_for(tmp_path, url, POOL_SIZE="1", MAX_OVERFLOW="0") as db:
        name = backend(db)
        sql = f"{LONG_RUNNING[name]} /* {marker} */"
        started = time.monotonic()
        with pytest.raises(StepTimeout) as caught:
            db.execute_query_with_timeout(sql, timeout=1)
        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 5, elapsed
        assert "1 s" in str(caught.value)
        if name == "postgresql":
            active = direct_rows(
                url.difference_update_query(["application_name"]),
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                f"AND application_name = '{marker}' AND query LIKE '%pg_sleep%'",
            )
            assert active == [(0,)]
        if name == "mysql":
            running = direct_rows(
                url,
                "SELECT count(*) FROM information_schema.processlist "
                f"WHERE info LIKE '%{marker}%' AND info NOT LIKE '%processlist%'",
            )
            assert running == [(0,)]
        assert db.execute_query("SELECT 1 AS one") == [{"one": 1}]
        assert db.get_pool_status()["checked_in"] == 1
        if name == "postgresql":  # the limit did not stay on the connection
            assert db.execute_query("SHOW statement_timeout") == [{"statement_timeout": "0"}]
            assert db.execute_query("SELECT 1 AS done FROM pg_sleep(1.2)") == [{"done": 1}]
        if name == "mysql":
            assert db.execute_query("SELECT SLEEP(1.2) AS s") == [{"s": 0}]


def test_timeout_not_reached_returns_rows(db: DatabaseManager) -> None:
    rows = db.execute_query_with_timeout("SELECT :v AS v", {"v": 5}, timeout=10)
    assert rows == [{"v": 5}]


def test_timeout_on_a_write_rolls_it_back(db: DatabaseManager) -> None:
    name = backend(db)
    db.execute_query("CREATE TABLE tw (id INTEGER)")
    slow_write = {
        "sqlite": "INSERT INTO tw " + LONG_RUNNING["sqlite"].replace(" AS n", ""),
        "duckdb": "INSERT INTO tw SELECT count(*) FROM range(1000000000000) t(i)",
        "postgresql": "INSERT INTO tw SELECT 1 FROM pg_sleep(30)",
        "mysql": "INSERT INTO tw SELECT SLEEP(30)",
    }[name]
    with pytest.raises(StepTimeout):
        db.execute_query_with_timeout(slow_write, timeout=1)
    assert db.execute_query("SELECT count(*) AS n FROM tw") == [{"n": 0}]


# -- execute_transaction ---------------------------------------------------------------------


def test_transaction_is_all_or_nothing(db: DatabaseManager) -> None:
    db.execute_query("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)")
    db.execute_query("INSERT INTO acct VALUES (1, 100)")
    with pytest.raises(PermanentError):
        db.execute_transaction(
            [
                ("UPDATE acct SET balance = balance - :n WHERE id = 1", {"n": 30}),
                ("INSERT INTO acct VALUES (:id, :b)", {"id": 2, "b": 30}),
                ("INSERT INTO acct VALUES (:id, :b)", {"id": 1, "b": 0}),  # duplicate key
            ]
        )
    assert db.execute_query("SELECT id, balance FROM acct ORDER BY id") == [
        {"id": 1, "balance": 100}
    ]


def test_transaction_returns_each_statements_result(db: DatabaseManager) -> None:
    db.execute_query("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)")
    results = db.execute_transaction(
        [
            ("INSERT INTO acct VALUES (:id, :b)", {"id": 1, "b": 100}),
            ("INSERT INTO acct VALUES (:id, :b)", {"id": 2, "b": 0}),
            ("UPDATE acct SET balance = balance + 5", None),
            ("SELECT id, balance FROM acct WHERE id = :id", {"id": 2}),
        ]
    )
    assert [r["rowcount"] for r in results[:3]] == [1, 1, 2]
    assert [r["rows"] for r in results] == [[], [], [], [{"id": 2, "balance": 5}]]
    assert db.execute_query("SELECT sum(balance) AS s FROM acct") == [{"s": 110}]


def test_transaction_failing_in_its_first_statement_changes_nothing(db: DatabaseManager) -> None:
    db.execute_query("CREATE TABLE acct (id INTEGER)")
    with pytest.raises(PermanentError):
        db.execute_transaction([("INSERT INTO no_such VALUES (1)", None)])
    assert db.execute_transaction([("INSERT INTO acct VALUES (1)", {})])[0]["rowcount"] == 1


# -- one engine per name, shared by threads --------------------------------------------------


def test_managers_for_one_name_share_one_engine(tmp_path: Path, db_url: URL) -> None:
    settings = Settings.load(
        tmp_path,
        environ={
            "DEVELOPMENT_GLOBAL_A_CONNECTION_STRING": db_url.render_as_string(hide_password=False),
            "DEVELOPMENT_GLOBAL_B_CONNECTION_STRING": db_url.render_as_string(hide_password=False),
        },
    )
    with (
        DatabaseManager("a", settings=settings) as first,
        DatabaseManager("A", settings=settings) as second,
        DatabaseManager("b", settings=settings) as other,
    ):
        assert first.engine is second.engine
        assert other.engine is not first.engine
        first.execute_query("SELECT 1")
        assert second.get_pool_status()["checked_in"] == 1  # the same pool


def test_threads_share_a_small_pool(tmp_path: Path, db_url: URL) -> None:
    with manager_for(tmp_path, db_url, POOL_SIZE="2", MAX_OVERFLOW="0") as db:
        db.execute_query("CREATE TABLE hits (thread INTEGER, i INTEGER)")
        errors: list[BaseException] = []
        results: list[tuple[int, int, Any]] = []
        lock = threading.Lock()
        start = threading.Barrier(8)

        def work(n: int) -> None:
            try:
                start.wait()
                for i in range(20):
                    rows = db.execute_query("SELECT :n AS n, :i AS i", {"n": n, "i": i})
                    with lock:
                        results.append((n, i, rows))
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert len(results) == 160
        assert all(rows == [{"n": n, "i": i}] for n, i, rows in results)
        status = db.get_pool_status()
        assert status["checked_out"] == 0
        assert status["checked_in"] <= 2
        assert status["overflow"] == 0


def test_threads_use_at_most_pool_size_server_connections(
    tmp_path: Path, postgres_url: URL
) -> None:
    with manager_for(tmp_path, postgres_url, POOL_SIZE="2", MAX_OVERFLOW="0") as db:
        pids: set[int] = set()
        lock = threading.Lock()
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(20):
                    (row,) = db.execute_query("SELECT pg_backend_pid() AS pid, pg_sleep(0.005)")
                    with lock:
                        pids.add(row["pid"])
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert 1 <= len(pids) <= 2


# -- read-only -------------------------------------------------------------------------------

READ_ONLY_REFUSAL = {
    "sqlite": "readonly",
    "duckdb": "read-only",
    "postgresql": "read-only transaction",
    "mysql": "READ ONLY",
}


def test_read_only_connection_refuses_writes_at_the_server(tmp_path: Path, db_url: URL) -> None:
    with manager_for(tmp_path, db_url, "writer") as writer:
        writer.execute_query("CREATE TABLE ro (id INTEGER)")
        writer.execute_query("INSERT INTO ro VALUES (1)")
    # DuckDB's read_only needs the file to exist: the writer made it, and has let go of it.
    with manager_for(tmp_path, db_url, "reader", READ_ONLY="true") as reader:
        assert reader.connection.read_only
        assert reader.execute_query("SELECT id FROM ro") == [{"id": 1}]
        name = backend(reader)
        for sql in (
            "INSERT INTO ro VALUES (2)",
            "UPDATE ro SET id = 3",
            "DELETE FROM ro",
            "CREATE TABLE ro2 (id INTEGER)",
        ):
            with pytest.raises(PermanentError) as caught:
                reader.execute_query(sql)
            assert READ_ONLY_REFUSAL[name] in str(caught.value), (sql, caught.value)
        with pytest.raises(PermanentError):
            reader.execute_transaction([("INSERT INTO ro VALUES (:v)", {"v": 4})])
        # the server said no, and still answers reads on the same connections
        assert reader.execute_query("SELECT count(*) AS n FROM ro") == [{"n": 1}]
        assert reader.health_check()["status"] == "healthy"
    with manager_for(tmp_path, db_url, "writer") as writer:
        assert writer.execute_query("SELECT id FROM ro") == [{"id": 1}]


def test_read_only_is_a_session_setting_on_servers(tmp_path: Path, db_url: URL) -> None:
    """What the server itself reports, for the servers that have a session switch."""
    if db_url.get_backend_name() in ("sqlite", "duckdb"):
        with manager_for(tmp_path, db_url, "w") as writer:
            writer.execute_query("CREATE TABLE z (id INTEGER)")
    with manager_for(tmp_path, db_url, "reader", READ_ONLY="yes") as reader:
        name = backend(reader)
        check = {
            "postgresql": ("SHOW default_transaction_read_only", "on"),
            "mysql": ("SELECT @@SESSION.tx_read_only AS v", 1),  # MariaDB 10.x spelling
            "sqlite": ("PRAGMA query_only", 1),
            "duckdb": (
                "SELECT readonly AS v FROM duckdb_databases() "
                "WHERE database_name = current_database()",
                True,
            ),
        }[name]
        (row,) = reader.execute_query(check[0])
        assert next(iter(row.values())) == check[1]


# -- retries ---------------------------------------------------------------------------------


def test_connect_is_retried_until_the_server_answers(tmp_path: Path, postgres_server: URL) -> None:
    host, port = postgres_server.host or "127.0.0.1", postgres_server.port or 5432
    # sslmode=disable: one TCP connection per attempt, so the proxy counts ordo's attempts.
    with TcpProxy((host, port), drop_first=2) as proxy:
        url = postgres_server.set(host="127.0.0.1", port=proxy.port).update_query_dict(
            {"sslmode": "disable"}
        )
        with manager_for(tmp_path, url) as db:
            assert db.execute_query("SELECT 1 AS one") == [{"one": 1}]
        assert (proxy.dropped, proxy.accepted) == (2, 3)


def test_connect_gives_up_after_three_attempts(tmp_path: Path, postgres_server: URL) -> None:
    host, port = postgres_server.host or "127.0.0.1", postgres_server.port or 5432
    with TcpProxy((host, port), drop_first=10) as proxy:
        url = postgres_server.set(
            host="127.0.0.1", port=proxy.port, password=PASSWORD
        ).update_query_dict({"sslmode": "disable"})
        with manager_for(tmp_path, url) as db, pytest.raises(TransientError) as caught:
            db.execute_query("SELECT 1")
        assert proxy.accepted == 3
    assert PASSWORD not in str(caught.value)


def test_a_write_retries_its_connect_but_only_three_times(
    tmp_path: Path, postgres_url: URL
) -> None:
    """Connecting is retried for a write too (nothing ran yet); the total stays at three."""
    host, port = postgres_url.host or "127.0.0.1", postgres_url.port or 5432
    with TcpProxy((host, port), drop_first=2) as proxy:
        url = postgres_url.set(host="127.0.0.1", port=proxy.port).update_query_dict(
            {"sslmode": "disable"}
        )
        with manager_for(tmp_path, url) as db:
            assert db.execute_query("CREATE TABLE made (id INTEGER)") == []
        assert proxy.accepted == 3
    with TcpProxy((host, port), drop_first=10) as proxy:
        url = postgres_url.set(host="127.0.0.1", port=proxy.port).update_query_dict(
            {"sslmode": "disable"}
        )
        with manager_for(tmp_path, url) as db, pytest.raises(TransientError):
            db.execute_query("INSERT INTO made VALUES (1)")
        assert proxy.accepted == 3


def test_a_read_is_retried_while_the_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (x INTEGER)")
        setup.execute("INSERT INTO t VALUES (1)")
    setup.close()
    # ?timeout=0.1: SQLite gives up on the lock after 0.1 s, then ordo retries with backoff.
    url = f"sqlite:///{path}?timeout=0.1"
    with manager_for(tmp_path, url) as db:
        tries: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if "FROM t" in statement:
                tries.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        release = threading.Timer(0.8, holder.execute, args=("COMMIT",))
        try:
            holder.execute("BEGIN EXCLUSIVE")  # readers are locked out until it ends
            release.start()
            assert db.execute_query("SELECT x FROM t") == [{"x": 1}]
        finally:
            release.join()
            holder.close()
        assert len(tries) >= 2  # the first try met the lock

        # A write under the same lock is tried once and reported as transient.
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            tries.clear()
            with pytest.raises(TransientError):
                db.execute_query("INSERT INTO t SELECT x + 1 FROM t")
            assert len(tries) == 1
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        event.remove(db.engine, "before_cursor_execute", count)


# -- lifetime --------------------------------------------------------------------------------


def test_pool_closes_when_the_last_manager_closes(tmp_path: Path, db_url: URL) -> None:
    first = manager_for(tmp_path, db_url)
    second = manager_for(tmp_path, db_url)
    assert first.engine is second.engine
    first.execute_query("SELECT 1")
    second.execute_query("SELECT 1")
    assert first.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    first.close()
    assert second.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    assert second.execute_query("SELECT 2 AS two") == [{"two": 2}]
    first.close()  # closing twice does not count twice
    assert second.engine.pool.checkedin() == 1  # type: ignore[attr-defined]
    with second:
        pass
    assert second.engine.pool.checkedin() == 0  # type: ignore[attr-defined]


def test_server_connections_end_with_the_last_manager(tmp_path: Path, postgres_url: URL) -> None:
    marker = f"ordo_{uuid.uuid4().hex[:10]}"
    url = postgres_url.update_query_dict({"application_name": marker})
    count_sql = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{marker}'"

    def server_connections() -> int:
        deadline = time.monotonic() + 5
        while True:
            (row,) = direct_rows(postgres_url, count_sql)
            if row[0] == 0 or time.monotonic() > deadline:
                return int(row[0])
            time.sleep(0.05)

    with manager_for(tmp_path, url) as outer:
        with manager_for(tmp_path, url) as inner:
            inner.execute_query("SELECT 1")
        outer.execute_query("SELECT 1")
        (row,) = direct_rows(postgres_url, count_sql)
        assert row[0] == 1  # the inner manager's exit left the shared pool open
    assert server_connections() == 0
