"""Transient failures on real databases: a lock another connection holds, a lost connection.

Issue 2, point 16: retried with exponential backoff, a group from its first step; each attempt
logged. Locks are released from the ``sleep`` callback ``ordo.run`` calls before a retry: the
first attempt is sure to have failed by then and the second is sure not to have started, so no
test depends on timing, and nothing really sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, Connection, Engine, RootTransaction

from ordo.events import RunStatus, StepFailed, UnitRetrying
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import DONE, create_t, execute, make, manifest_path, query, run

# What each database says when the step meets the lock another connection holds.
LOCK_MESSAGES = {
    "sqlite": "database is locked",
    "duckdb": "Conflict on update",
    "postgresql": "canceling statement due to lock timeout",
    "mariadb": "Lock wait timeout exceeded",
}


class LockHolder:
    """Another connection that holds a lock the step will meet, until ``release``.

    PostgreSQL: ``LOCK TABLE t IN ACCESS EXCLUSIVE MODE`` (the step's ``lock_timeout`` ends
    its wait with SQLSTATE 55P03). MariaDB: an uncommitted ``UPDATE`` of row 1 (InnoDB row lock;
    ``innodb_lock_wait_timeout`` ends the wait with error 1205). SQLite: an uncommitted
    ``UPDATE`` holds the database's write lock (the busy timeout ends the wait), or with
    ``reader=True`` an open read transaction, which lets the group write but not commit.
    DuckDB: an uncommitted ``UPDATE`` of row 1, so that the step's update of the same row is a
    write-write conflict.
    """

    def __init__(self, engine: Engine, backend: str, *, reader: bool = False) -> None:
        self.engine = engine
        self.backend = backend
        self.conn: Connection | None = engine.connect()
        self.trans: RootTransaction | None = self.conn.begin()
        if backend == "postgresql":
            self.conn.exec_driver_sql("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        elif reader:
            self.conn.exec_driver_sql("SELECT * FROM t").fetchall()
        else:
            self.conn.exec_driver_sql("UPDATE t SET v = v + 100 WHERE id = 1")
        self.releases = 0

    def release(self, _seconds: float = 0.0) -> None:
        if self.conn is not None and self.trans is not None:
            self.trans.rollback()
            self.conn.close()
            self.conn = self.trans = None
            self.engine.dispose()
        self.releases += 1


@pytest.fixture
def locked(engine: Engine, backend: str) -> Iterator[Callable[..., LockHolder]]:
    """Makes ``LockHolder`` s on this test's database and releases whatever is still held."""
    holders: list[LockHolder] = []

    def hold(*, reader: bool = False) -> LockHolder:
        holder = LockHolder(engine, backend, reader=reader)
        holders.append(holder)
        return holder

    yield hold
    for holder in holders:
        holder.release()


def with_short_lock_wait(url: URL, backend: str) -> URL:
    """The URL with a short wait for locks, so a held lock becomes an error quickly."""
    if backend == "postgresql":
        options = f"{url.query.get('options', '')} -clock_timeout=200".strip()
        return url.update_query_dict({"options": options})
    if backend == "mariadb":
        # 0 = do not wait at all (MariaDB 10.3+); the error is still 1205, lock wait timeout.
        return url.update_query_dict({"init_command": "SET SESSION innodb_lock_wait_timeout = 0"})
    if backend == "sqlite":
        return url.update_query_dict({"timeout": "0.05"})
    return url  # DuckDB does not wait: a conflicting write fails at once


# -- 16: transient failures are retried -----------------------------------------------------


def test_lock_held_by_another_connection_is_retried_to_success(
    tmp_path: Path,
    db_url: URL,
    engine: Engine,
    backend: str,
    locked: Callable[..., LockHolder],
) -> None:
    create_t(engine)
    root = make(
        tmp_path,
        with_short_lock_wait(db_url, backend),
        """\
        name: retried
        retry: {base: 0.25}
        steps:
          - name: bump
            sql: UPDATE t SET v = v + 1 WHERE id = 1
        """,
    )
    holder = locked()
    recorder = EventRecorder(on_sleep=holder.release)

    result = run(root, recorder)

    assert result.status == RunStatus.SUCCESS, result.error
    bump = result.step("bump")
    assert bump.attempts == 2
    assert bump.rows == 1
    assert bump.status == StepStatus.SUCCESS
    assert bump.error is None
    assert recorder.sleeps == [0.25]  # base * 2**0 before the first retry
    assert holder.releases == 1
    [failed] = recorder.of(StepFailed)
    assert (failed.transient, failed.attempt) == (True, 1)
    assert LOCK_MESSAGES[backend] in failed.error
    [retrying] = recorder.of(UnitRetrying)
    assert (retrying.attempt, retrying.next_attempt) == (1, 2)
    assert query(engine, "SELECT v FROM t WHERE id = 1") == [(1,)]  # once, not 101
    assert result.log_file is not None
    log = result.log_file.read_text()
    assert "retrying bump in 0.2s (attempt 2)" in log
    assert LOCK_MESSAGES[backend] in log
    assert DONE.search(manifest_path(root).read_text())


def test_without_retries_a_lock_fails_the_first_attempt(
    tmp_path: Path,
    db_url: URL,
    engine: Engine,
    backend: str,
    locked: Callable[..., LockHolder],
) -> None:
    create_t(engine)
    root = make(
        tmp_path,
        with_short_lock_wait(db_url, backend),
        """\
        name: not retried
        retry: {max_retries: 0}
        steps:
          - name: bump
            sql: UPDATE t SET v = v + 1 WHERE id = 1
        """,
    )
    locked()
    before = manifest_path(root).read_bytes()
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    assert result.exit_code == 1
    bump = result.step("bump")
    assert bump.attempts == 1
    assert LOCK_MESSAGES[backend] in (bump.error or "")
    assert recorder.sleeps == []
    assert recorder.of(UnitRetrying) == []
    assert manifest_path(root).read_bytes() == before


def test_group_is_retried_from_its_first_step(
    tmp_path: Path,
    db_url: URL,
    engine: Engine,
    backend: str,
    locked: Callable[..., LockHolder],
) -> None:
    """Step 3 meets the lock; the retry runs steps 1, 2, 3 again in a new transaction.

    On SQLite a reader's shared lock lets the group write and then stops its COMMIT (SQLite
    locks the whole file, so a writer would already stop step 1): the failure comes after
    step 3 instead of in it (reported as step 3's failure: its work could not be committed),
    and the group is retried from step 1 just the same.
    """
    create_t(engine)
    execute(engine, "CREATE TABLE log_t (n INTEGER)")
    root = make(
        tmp_path,
        with_short_lock_wait(db_url, backend),
        """\
        name: group retried
        retry: {base: 0.01}
        steps:
          - name: s1
            sql: INSERT INTO log_t (n) VALUES (1)
            transaction_group: g
          - name: s2
            sql: INSERT INTO log_t (n) VALUES (2)
            transaction_group: g
          - name: s3
            sql: UPDATE t SET v = v + 1 WHERE id = 1
            transaction_group: g
        """,
    )
    holder = locked(reader=backend == "sqlite")
    recorder = EventRecorder(on_sleep=holder.release)

    result = run(root, recorder)

    assert result.status == RunStatus.SUCCESS, result.error
    assert recorder.started() == ["s1", "s2", "s3", "s1", "s2", "s3"]
    assert [(r.status, r.attempts) for r in result.steps] == [(StepStatus.SUCCESS, 2)] * 3
    assert len(recorder.sleeps) == 1
    assert query(engine, "SELECT n FROM log_t ORDER BY n") == [(1,), (2,)]
    assert query(engine, "SELECT v FROM t WHERE id = 1") == [(1,)]
    [retrying] = recorder.of(UnitRetrying)
    assert retrying.steps == ("s1", "s2", "s3")
    assert LOCK_MESSAGES[backend] in retrying.error
    [failed] = recorder.of(StepFailed)
    assert (failed.step, failed.attempt, failed.transient) == ("s3", 1, True)
    if backend == "sqlite":
        assert failed.error.startswith("could not commit: ")
    text = manifest_path(root).read_text()
    assert len(DONE.findall(text)) == 3


def test_retries_back_off_exponentially_up_to_the_cap_then_fail(
    tmp_path: Path,
    db_url: URL,
    engine: Engine,
    backend: str,
    locked: Callable[..., LockHolder],
) -> None:
    """The lock is never released: 1 + max_retries attempts, waits base * 2**n capped."""
    create_t(engine)
    root = make(
        tmp_path,
        with_short_lock_wait(db_url, backend),
        """\
        name: exhausted
        retry: {max_retries: 3, base: 0.5, cap: 1.5}
        steps:
          - name: bump
            sql: UPDATE t SET v = v + 1 WHERE id = 1
        """,
    )
    locked()
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    assert result.step("bump").attempts == 4
    assert recorder.sleeps == [0.5, 1.0, 1.5]
    assert [e.next_attempt for e in recorder.of(UnitRetrying)] == [2, 3, 4]
    assert [e.attempt for e in recorder.of(StepFailed)] == [1, 2, 3, 4]
    assert result.log_file is not None
    assert result.log_file.read_text().count("retrying bump") == 3


KILL_SCRIPT = """\
import os, time
from sqlalchemy import create_engine
engine = create_engine(os.environ["DATABASE_URL"])
with engine.connect() as conn:
    pid = int(conn.exec_driver_sql("SELECT pid FROM pids").scalar())
    if engine.dialect.name == "postgresql":
        # With a timeout, pg_terminate_backend waits until the backend is gone.
        assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid}, 10000)").scalar()
    else:
        conn.exec_driver_sql(f"KILL CONNECTION {pid}")
        gone = f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {pid}"
        for _ in range(1000):
            if not conn.exec_driver_sql(gone).scalar():
                break
            time.sleep(0.01)
        else:
            raise SystemExit(f"session {pid} is still there")
engine.dispose()
print("killed", pid)
"""


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ],
)
def test_a_lost_connection_is_retried_on_a_new_one(
    tmp_path: Path, request: pytest.FixtureRequest, server: str
) -> None:
    """A python step kills the server session the run holds; the next SQL step finds its
    connection dead, which is transient: the unit is retried on a fresh connection."""
    url: URL = request.getfixturevalue(server)
    pid = "pg_backend_pid()" if server == "postgres_url" else "CONNECTION_ID()"
    root = make(
        tmp_path,
        url,
        f"""\
        name: lost
        retry: {{base: 0.01}}
        steps:
          - name: remember
            sql: CREATE TABLE pids AS SELECT {pid} AS pid
          - name: kill
            file: kill.py
          - name: after
            sql: INSERT INTO pids (pid) VALUES (0)
        """,
        python={"kill.py": KILL_SCRIPT},
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.SUCCESS, result.error
    assert result.step("after").attempts == 2
    [failed] = recorder.of(StepFailed)
    assert (failed.step, failed.transient) == ("after", True)
    assert len(recorder.sleeps) == 1
