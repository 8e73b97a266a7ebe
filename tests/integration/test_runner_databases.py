"""The runner against real SQLite, DuckDB, PostgreSQL and MariaDB, through ``ordo.run``.

Issue 2, points 12, 17, 16 (permanent errors), 21, 25/27 (rows) and 28: which work commits
when, rollback of a failed group, permanent errors failing at once, rows affected. Retries are
in ``test_runner_retries.py``, step options (``cleanup_target``, ``output_file``, ``timeout``,
template filters) in ``test_runner_step_options.py`` and the manifest's done marks in
``test_runner_manifest_marks.py``; the helpers they share are in ``tests/support/runs.py``.

Every test runs once per backend through ``db_url``; where a backend behaves differently
(MariaDB commits DDL implicitly, SQLite has no decimal type) the test says so and asserts what
that backend really does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine

from ordo.db.dialects import Dialect
from ordo.events import RunStatus, StepFailed
from ordo.runner.result import StepStatus
from tests.support.events import EventRecorder
from tests.support.runs import (
    DONE,
    create_t,
    make,
    manifest_path,
    query,
    run,
    step_lines,
    table_exists,
)

# What each database says, in its own words, for the permanent errors provoked below.
DB_MESSAGES = {
    "missing": {
        "sqlite": "no such table: nope",
        "duckdb": "Table with name nope does not exist",
        "postgresql": 'relation "nope" does not exist',
        "mariadb": "nope' doesn't exist",
    },
    "syntax": {
        "sqlite": 'near "SELEC": syntax error',
        "duckdb": "syntax error at or near",
        "postgresql": 'syntax error at or near "SELEC"',
        "mariadb": "You have an error in your SQL syntax",
    },
    "unique": {
        "sqlite": "UNIQUE constraint failed: t.id",
        "duckdb": "violates primary key constraint",
        "postgresql": "duplicate key value violates unique constraint",
        "mariadb": "Duplicate entry '0' for key 'PRIMARY'",
    },
}


# -- 12: transaction groups and when they commit --------------------------------------------

OBSERVE = """\
import json, os
from sqlalchemy import create_engine
engine = create_engine(os.environ["DATABASE_URL"])
with engine.connect() as conn:
    ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM t ORDER BY id")]
engine.dispose()
with open("observed.jsonl", "a", encoding="utf-8") as out:
    out.write(json.dumps({"step": os.environ["ORDO_STEP"], "ids": ids}) + "\\n")
print("saw", ids)
"""


def test_units_commit_before_the_next_unit_and_a_failed_group_leaves_its_steps_enabled(
    tmp_path: Path, db_url: URL, engine: Engine
) -> None:
    """Python steps are a second connection between steps: they see what committed so far."""
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        """\
        name: commits
        retry: {base: 0.01}
        steps:
          - name: alone
            sql: INSERT INTO t (id, v) VALUES (2, 0)
          - name: look
            file: observe.py
          - name: g_one
            sql: INSERT INTO t (id, v) VALUES (3, 0)
            transaction_group: g
          - name: g_two
            sql: INSERT INTO t (id, v) VALUES (4, 0)
            transaction_group: g
          - name: look_again
            file: observe.py
          - name: h_one
            sql: INSERT INTO t (id, v) VALUES (5, 0)
            transaction_group: h
          - name: h_fails
            sql: INSERT INTO nope (id) VALUES (1)
            transaction_group: h
          - name: never
            sql: INSERT INTO t (id, v) VALUES (6, 0)
        """,
        python={"observe.py": OBSERVE},
    )
    before = manifest_path(root).read_text()

    result = run(root)

    assert result.status == RunStatus.FAILED, result.error
    observed = [json.loads(line) for line in (root / "observed.jsonl").read_text().splitlines()]
    assert observed == [
        {"step": "look", "ids": [0, 1, 2]},  # 'alone' committed on its own
        {"step": "look_again", "ids": [0, 1, 2, 3, 4]},  # group g committed after g_two
    ]
    assert query(engine, "SELECT id FROM t ORDER BY id") == [(i,) for i in range(5)]
    after = manifest_path(root).read_text()
    for step in ("alone", "look", "g_one", "g_two", "look_again"):
        [line] = [x for x in step_lines(after, step) if "enabled" in x]
        assert DONE.search(line), (step, line)
    for step in ("h_one", "h_fails", "never"):
        assert step_lines(after, step) == step_lines(before, step)
    assert [r.status for r in result.steps] == [
        StepStatus.SUCCESS,
        StepStatus.SUCCESS,
        StepStatus.SUCCESS,
        StepStatus.SUCCESS,
        StepStatus.SUCCESS,
        StepStatus.ROLLED_BACK,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
    ]


# -- 17: rollback of a failed group ---------------------------------------------------------


def test_failed_group_rolls_back_and_stops_the_run(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str
) -> None:
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        """\
        name: rollback
        steps:
          - name: add
            sql: INSERT INTO t (id, v) VALUES (7, 0)
            transaction_group: 1
          - name: change
            sql: UPDATE t SET v = 10 WHERE id = 0
            transaction_group: 1
          - name: clash
            sql: INSERT INTO t (id, v) VALUES (0, 0)
            transaction_group: 1
          - name: later
            sql: INSERT INTO t (id, v) VALUES (8, 0)
        """,
    )
    before = manifest_path(root).read_bytes()
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    assert result.exit_code == 1
    assert query(engine, "SELECT id, v FROM t ORDER BY id") == [(0, 0), (1, 0)]
    assert manifest_path(root).read_bytes() == before  # every step stays enabled
    assert result.step("add").status == StepStatus.ROLLED_BACK
    assert result.step("change").status == StepStatus.ROLLED_BACK
    clash = result.step("clash")
    assert clash.status == StepStatus.FAILED
    assert clash.attempts == 1
    assert DB_MESSAGES["unique"][backend] in (clash.error or "")
    assert result.failed_step is clash
    assert result.error == clash.error
    assert result.step("later").status == StepStatus.SKIPPED
    assert "later" not in recorder.started()
    assert recorder.sleeps == []


def test_ddl_in_a_failed_group_follows_the_database(
    tmp_path: Path, db_url: URL, engine: Engine, dialect: Dialect, backend: str
) -> None:
    """PostgreSQL, SQLite and DuckDB roll DDL back with the group. MariaDB cannot: each DDL
    statement commits implicitly, taking the group's earlier DML with it. That is the
    database's rule (``Dialect.ddl_commits_implicitly``): the plan refuses such a group unless
    ``allow_implicit_commit`` accepts it (issue 9, item 2), and then what the DDL committed is
    reported as done and marked so, never as rolled back.
    """
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        """\
        name: ddl
        allow_implicit_commit: true
        steps:
          - name: before_ddl
            sql: INSERT INTO t (id, v) VALUES (2, 0)
            transaction_group: 1
          - name: ddl
            sql: CREATE TABLE side (x INTEGER)
            transaction_group: 1
          - name: after_ddl
            sql: INSERT INTO t (id, v) VALUES (3, 0)
            transaction_group: 1
          - name: fails
            sql: INSERT INTO nope (id) VALUES (1)
            transaction_group: 1
        """,
    )
    before = manifest_path(root).read_bytes()

    result = run(root)

    assert result.status == RunStatus.FAILED
    ids = [row[0] for row in query(engine, "SELECT id FROM t ORDER BY id")]
    statuses = [r.status for r in result.steps]
    if backend == "mariadb":
        assert dialect.ddl_commits_implicitly
        assert table_exists(engine, "side")  # CREATE TABLE committed implicitly...
        assert ids == [0, 1, 2]  # ...and so did the INSERT before it, but not the one after
        assert statuses == [StepStatus.SUCCESS] * 2 + [StepStatus.ROLLED_BACK, StepStatus.FAILED]
        text = manifest_path(root).read_text()
        done = [bool(DONE.search("\n".join(step_lines(text, r.name)))) for r in result.steps]
        assert done == [True, True, False, False]
    else:
        assert not dialect.ddl_commits_implicitly
        assert manifest_path(root).read_bytes() == before
        assert not table_exists(engine, "side")
        assert ids == [0, 1]
        assert statuses == [StepStatus.ROLLED_BACK] * 3 + [StepStatus.FAILED]


# -- 16: permanent errors fail at once ------------------------------------------------------

PERMANENT = {
    "syntax": "SELEC 1",
    "missing": "SELECT * FROM nope",
    "unique": "INSERT INTO t (id, v) VALUES (0, 0)",
}


@pytest.mark.parametrize("error", sorted(PERMANENT))
def test_permanent_errors_are_not_retried(
    tmp_path: Path, db_url: URL, engine: Engine, backend: str, error: str
) -> None:
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        f"""\
        name: permanent
        steps:
          - name: broken
            sql: {PERMANENT[error]}
        """,
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    broken = result.step("broken")
    assert broken.attempts == 1
    assert DB_MESSAGES[error][backend] in (broken.error or "")
    assert recorder.sleeps == []
    [failed] = recorder.of(StepFailed)
    assert not failed.transient
    assert result.log_file is not None
    assert "retrying" not in result.log_file.read_text()


# -- 25, 27: rows affected ------------------------------------------------------------------


def test_rows_affected_are_reported_per_step(tmp_path: Path, db_url: URL, engine: Engine) -> None:
    create_t(engine)
    root = make(
        tmp_path,
        db_url,
        """\
        name: rows
        steps:
          - name: three
            sql: INSERT INTO t (id, v) VALUES (10, 1), (11, 1), (12, 1)
          - name: two
            sql: UPDATE t SET v = 5 WHERE id IN (10, 11)
          - name: none
            sql: DELETE FROM t WHERE id = 99
        """,
    )

    result = run(root)

    assert result.status == RunStatus.SUCCESS, result.error
    assert [(r.name, r.rows) for r in result.steps] == [("three", 3), ("two", 2), ("none", 0)]
    assert result.log_file is not None
    assert re.search(r"'three' finished in [\d.]+s, 3 rows", result.log_file.read_text())


# -- 17, 27: a group whose COMMIT fails -----------------------------------------------------


@pytest.mark.postgres
def test_a_failed_commit_fails_the_groups_last_step(tmp_path: Path, postgres_url: URL) -> None:
    """A deferred constraint is checked at COMMIT, after every step succeeded: the group is
    rolled back, and its last step (whose work could not be committed) is the failed one,
    with the database's message, in the result and in the events (so in log and console)."""
    root = make(
        tmp_path,
        postgres_url,
        """\
        name: deferred
        steps:
          - name: make
            sql: CREATE TABLE d (id INTEGER UNIQUE DEFERRABLE INITIALLY DEFERRED)
          - name: first
            sql: INSERT INTO d (id) VALUES (1)
            transaction_group: g
          - name: again
            sql: INSERT INTO d (id) VALUES (1)
            transaction_group: g
        """,
    )
    recorder = EventRecorder()

    result = run(root, recorder)

    assert result.status == RunStatus.FAILED
    assert [(r.name, r.status) for r in result.steps] == [
        ("make", StepStatus.SUCCESS),
        ("first", StepStatus.ROLLED_BACK),
        ("again", StepStatus.FAILED),
    ]
    assert result.failed_step is result.step("again")
    message = "duplicate key value violates unique constraint"
    assert message in (result.step("again").error or "")
    assert message in (result.error or "")
    [failed] = recorder.of(StepFailed)
    assert (failed.step, failed.transient) == ("again", False)
    assert message in failed.error
    assert recorder.sleeps == []
    text = manifest_path(root).read_text()
    assert len(DONE.findall(text)) == 1  # 'make' only
    assert result.log_file is not None
    assert message in result.log_file.read_text()
