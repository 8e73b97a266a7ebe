"""The fake kind run by the real runner: retries, failures, connections and groups.

These pin what a new kind can rely on: the runner lends the unit's connection only to a kind
that uses one and is transactional there, retries a ``TransientError``, and rolls a group back
when any of its steps fails.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import ordo
from ordo.kinds import registered
from ordo.kinds.testing import DetachedEchoKind, EchoKind
from tests.support.project import make_project


def run(root: Path, echo: EchoKind) -> ordo.RunResult:
    with registered(echo), registered(DetachedEchoKind()):
        return ordo.run(
            project=root,
            environ={},
            options=ordo.RunOptions(notify=False, sleep=lambda seconds: None),
        )


def test_a_transient_failure_is_retried(tmp_path: Path) -> None:
    manifest = """\
        retry: {max_retries: 2}
        steps:
          - name: flaky
            type: echo
            fail: transient
            fail_attempts: 1
            rows: 4
        """
    echo = EchoKind()
    result = run(make_project(tmp_path, manifest), echo)
    assert result.status == "success"
    assert [call.attempt for call in echo.calls] == [1, 2]
    [step] = result.steps
    assert (step.attempts, step.rows) == (2, 4)


def test_a_permanent_failure_is_not_retried(tmp_path: Path) -> None:
    manifest = "steps:\n  - name: broken\n    type: echo\n    fail: permanent\n"
    echo = EchoKind()
    result = run(make_project(tmp_path, manifest), echo)
    assert result.status == "failed"
    assert len(echo.calls) == 1
    [step] = result.steps
    assert step.error is not None
    assert "told to fail (permanent)" in step.error


def test_only_a_kind_using_a_connection_gets_one(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: inside
            type: echo
            message: "hello {{ who }}"
            params: {who: world}
          - name: outside
            type: echo_detached
        """
    echo = EchoKind()
    result = run(make_project(tmp_path, manifest), echo)
    assert result.status == "success"
    [call] = echo.calls
    assert (call.step, call.connection, call.dialect, call.message) == (
        "inside",
        True,
        "sqlite",
        "hello world",
    )


def test_a_failing_fake_step_rolls_its_group_back(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: create
            sql: CREATE TABLE t (id INTEGER)
            transaction_group: g
          - name: insert
            type: echo
            sql: INSERT INTO t VALUES (1)
            fail: permanent
            transaction_group: g
        """
    root = make_project(tmp_path, manifest)
    result = run(root, EchoKind(transactional_on={"sqlite"}))
    assert result.status == "failed"
    with sqlite3.connect(root / "data" / "test.db") as db:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert ("t",) not in tables
