"""``transaction: false`` steps and DDL in groups, run through ``ordo.run`` on real databases.

Issue 9, item 10: a step that says ``transaction: false`` runs in autocommit (``VACUUM``,
``CREATE INDEX CONCURRENTLY`` refuse a transaction), writes no ledger row, and is retried like
any other. The connection it used is given back as it was: a transaction group after it still
rolls back. Item 2: where DDL commits on its own (MariaDB) a group that holds DDL and opts in
with ``allow_implicit_commit`` reports what was committed, and a retry runs only the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, Engine

from ordo.events import RunFinished, RunStatus, UnitCommitted, UnitFailed
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import DONE, create_t, execute, make, manifest_path, query, run, step_lines

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
ON_MARIADB = pytest.mark.parametrize("db_url", ["mariadb"], indirect=True)
VACUUM = {"sqlite": "VACUUM", "postgresql": "VACUUM t", "mariadb": "OPTIMIZE TABLE t"}


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_a_group_after_an_autocommit_step_still_rolls_back(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str
) -> None:
    """The autocommit step runs, and the connection it leaves behind is transactional again."""
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        f"""\
        name: after
        steps:
          - name: tidy
            sql: {VACUUM[backend]}
            transaction: false
          - name: bump
            sql: UPDATE t SET v = v + 1
            transaction_group: g
          - name: fail
            sql: INSERT INTO missing VALUES (1)
            transaction_group: g
        """,
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    assert result.step("tidy").status == StepStatus.SUCCESS
    assert result.step("bump").status == StepStatus.ROLLED_BACK
    assert query(engine, "SELECT v FROM t ORDER BY id") == [(0,), (0,)]  # undone
    [failed] = recorder.of(UnitFailed)
    assert failed.rolled_back == ("bump", "fail")
    lines = step_lines(manifest_path(root).read_text(), "tidy")
    assert any(DONE.search(line) for line in lines)


@ON_POSTGRESQL
def test_postgresql_vacuum_and_create_index_concurrently_leave_no_ledger_row(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        """\
        name: outside
        steps:
          - name: index
            sql: CREATE INDEX CONCURRENTLY t_v ON t (v)
            transaction: false
          - name: vacuum
            sql: VACUUM (ANALYZE) t
            transaction: false
            timeout: 30
          - name: bump
            sql: UPDATE t SET v = v + 1
        """,
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    valid = query(
        engine,
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = 't_v'",
    )
    assert valid == [(True,)]
    ledger = query(engine, "SELECT step FROM ordo_ledger")
    assert ("index",) not in ledger
    assert ("vacuum",) not in ledger


@ON_POSTGRESQL
def test_a_locked_autocommit_step_is_retried(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    """Retries still apply: a lock held elsewhere fails the first try, the second succeeds."""
    create_t(engine)
    url = db_url.update_query_dict(
        {"options": f"{db_url.query.get('options', '')} -clock_timeout=200".strip()}
    )
    root = make(
        tmp_path,
        url,
        """\
        name: retried
        retry: {base: 0.25}
        steps:
          - name: bump
            sql: UPDATE t SET v = v + 1 WHERE id = 1
            transaction: false
        """,
    )
    holder = engine.connect()
    held = holder.begin()
    holder.exec_driver_sql("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")

    def release(_seconds: float) -> None:
        held.rollback()
        holder.close()

    try:
        result = run(root, EventRecorder(on_sleep=release))
    finally:
        if holder.in_transaction():
            release(0)

    assert result.status == RunStatus.SUCCESS, result.error
    assert result.step("bump").attempts == 2
    assert query(engine, "SELECT v FROM t WHERE id = 1") == [(1,)]


@ON_MARIADB
def test_mariadb_group_with_ddl_reports_what_committed(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    """The issue's example, opted in: the CREATE is committed and said so, never 'rolled
    back'; the manifest marks it done, so the next run does not fail on the table."""
    root = make(
        tmp_path,
        db_url,
        """\
        name: ddl
        allow_implicit_commit: true
        steps:
          - name: create
            sql: CREATE TABLE made (x INT)
            transaction_group: 1
          - name: insert
            sql: INSERT INTO made VALUES (1)
            transaction_group: 1
          - name: fail
            sql: INSERT INTO missing VALUES (1)
            transaction_group: 1
        """,
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    assert result.step("create").status == StepStatus.SUCCESS
    assert result.step("insert").status == StepStatus.ROLLED_BACK
    [failed] = recorder.of(UnitFailed)
    assert failed.committed == ("create",)
    assert failed.rolled_back == ("insert", "fail")
    assert recorder.of(UnitCommitted)[0].steps == ("create",)
    assert query(engine, "SELECT COUNT(*) FROM made") == [(0,)]  # the table stays, empty
    text = manifest_path(root).read_text()
    assert any(DONE.search(line) for line in step_lines(text, "create"))
    assert not any(DONE.search(line) for line in step_lines(text, "insert"))
    assert result.log_file is not None
    log = result.log_file.read_text()
    assert "committed before the failure (DDL commits on its own), done: create" in log
    assert "rolled back: insert, fail; 'fail' failed" in log

    execute(engine, "CREATE TABLE missing (x INT)")
    again = run(root)
    assert again.status == RunStatus.SUCCESS, again.error  # not "table 'made' exists"
    assert query(engine, "SELECT COUNT(*) FROM made") == [(1,)]


@ON_MARIADB
def test_mariadb_failing_ddl_may_have_committed_the_steps_before_it(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    """A CREATE that fails (the table exists) has committed the insert before it as it began:
    ordo says it may be committed, not that it rolled back."""
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        """\
        name: ddl
        steps:
          - name: insert
            sql: INSERT INTO t VALUES (2, 0)
            transaction_group: 1
            allow_implicit_commit: true
          - name: create
            sql: CREATE TABLE t (x INT)
            transaction_group: 1
        """,
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    assert query(engine, "SELECT COUNT(*) FROM t") == [(3,)]  # what MariaDB did
    [failed] = recorder.of(UnitFailed)
    assert (failed.committed, failed.uncertain) == ((), ("insert",))
    assert failed.rolled_back == ("create",)
    # the counts say what the lines say: not done, not rolled back either
    assert result.step("insert").status == StepStatus.UNCERTAIN
    [finished] = recorder.of(RunFinished)
    assert finished.counts() == "0 done, 1 failed, 1 may be committed"
    assert result.log_file is not None
    log = result.log_file.read_text()
    assert "may be committed (the DDL of 'create' commits what ran before it" in log
    assert "rolled back: insert" not in log


@ON_MARIADB
def test_mariadb_retry_runs_only_what_ddl_did_not_commit(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    """A lock fails the update after the CREATE committed: the retry runs the update alone
    (running the CREATE again would fail on the table it made)."""
    create_t(engine)
    url = db_url.update_query_dict({"init_command": "SET SESSION innodb_lock_wait_timeout = 0"})
    root = make(
        tmp_path,
        url,
        """\
        name: ddl
        allow_implicit_commit: true
        retry: {base: 0.25}
        steps:
          - name: create
            sql: CREATE TABLE made (x INT)
            transaction_group: 1
          - name: bump
            sql: UPDATE t SET v = v + 1 WHERE id = 1
            transaction_group: 1
        """,
    )
    holder = engine.connect()
    held = holder.begin()
    holder.exec_driver_sql("UPDATE t SET v = v + 100 WHERE id = 1")

    def release(_seconds: float) -> None:
        held.rollback()
        holder.close()

    recorder = EventRecorder(on_sleep=release)
    try:
        result = run(root, recorder)
    finally:
        if holder.in_transaction():
            release(0)

    assert result.status == RunStatus.SUCCESS, result.error
    assert recorder.started().count("create") == 1
    assert recorder.started().count("bump") == 2
    assert [event.steps for event in recorder.of(UnitCommitted)] == [("create",), ("bump",)]
    assert query(engine, "SELECT v FROM t WHERE id = 1") == [(1,)]
