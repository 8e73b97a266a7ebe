"""Every state store keeps a step's details (schema version 2), and a version 1 store upgrades."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ordo.migrations import Migrator
from ordo.store.base import PlannedTask, StateStore, TaskOutcome, TaskStatus
from ordo.store.memory import MemoryStore
from ordo.store.postgresql import PostgresStore
from ordo.store.schema import HISTORY_TABLE, MIGRATIONS
from ordo.store.sqlite import SqliteStore

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DETAILS = {"files": {"a.csv": 2}, "checks": [{"name": "unique id", "passed": False}], "n": 1.5}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    made: StateStore
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqliteStore(tmp_path / ".ordo" / "state.db")
    else:
        made = PostgresStore(request.getfixturevalue("postgres_url"))
    yield made
    made.close()


def started(store: StateStore) -> str:
    job = store.record_job("seeds", "queue/manifest.yaml", "steps: []")
    tasks = [PlannedTask("load", 1), PlannedTask("plain", 2)]
    store.start_run("r1", job, started_at=T0, manifest_text="steps: []", tasks=tasks)
    return "r1"


def test_details_are_kept_and_a_later_outcome_without_them_keeps_them(store: StateStore) -> None:
    run = started(store)
    store.task_finished(
        run,
        [
            TaskOutcome("load", TaskStatus.COMPLETED, T0, rows=3, details=DETAILS),
            TaskOutcome("plain", TaskStatus.COMPLETED, T0, rows=1),
        ],
    )
    store.task_finished(run, [TaskOutcome("load", TaskStatus.FAILED, T0, error="later")])
    tasks = {task.step: task for task in store.get_run(run).tasks}
    assert tasks["load"].details == DETAILS
    assert tasks["plain"].details == {}
    assert tasks["load"].as_dict()["details"] == DETAILS


def test_a_version_1_store_upgrades_and_its_steps_have_no_details(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        Migrator(engine, MIGRATIONS / "sqlite", table=HISTORY_TABLE, installed_by="ordo").migrate(
            target="1"
        )
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO job_definitions VALUES "
                    "('j', 'old', NULL, 'm.yaml', '', '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO job_runs (id, job_definition_id, status, started_at, "
                    "manifest_hash, manifest_text, rehearsal) "
                    "VALUES ('old-run', 'j', 'success', '2026-01-01 00:00:00', 'h', '', 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO tasks (id, job_run_id, position, step, status, attempt_count) "
                    "VALUES ('t', 'old-run', 1, 'load', 'COMPLETED', 1)"
                )
            )
    finally:
        engine.dispose()
    store = SqliteStore(path)
    try:
        [task] = store.get_run("old-run").tasks
        assert task.details == {}
        store.task_finished(
            "old-run", [TaskOutcome("load", TaskStatus.COMPLETED, T0, details={"x": 1})]
        )
        [task] = store.get_run("old-run").tasks
        assert task.details == {"x": 1}
    finally:
        store.close()
