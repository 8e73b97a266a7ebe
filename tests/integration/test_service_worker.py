"""A worker on a real store runs queued runs in a process of its own: the manifest is never
edited, every run does all its steps, a cancel rolls back the current unit."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine

from ordo.service.worker import Worker, WorkerSettings
from ordo.store.base import RunNotFound, TaskRecord
from ordo.store.jobs import JobOrigin, JobSpec
from ordo.store.queue import RunTrigger, ServiceRunStatus
from ordo.store.sqlite import SqliteStore
from tests.support.project import make_project

MANIFEST = """\
    name: effects
    steps:
      - name: make
        sql: CREATE TABLE IF NOT EXISTS effects (n INT, region TEXT)
      - name: one
        sql: INSERT INTO effects VALUES (1, '{{ region }}')
      - name: two
        sql: INSERT INTO effects VALUES (2, '{{ region }}')
    """


def effects(root: Path) -> list[tuple[int, str]]:
    engine = create_engine(f"sqlite:///{root / 'data' / 'test.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT n, region FROM effects ORDER BY n").all()
    finally:
        engine.dispose()
    return [(int(n), str(r)) for n, r in rows]


def test_each_run_does_every_step_and_leaves_the_manifest_as_it_was(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    before = (root / "queue" / "manifest.yaml").read_text()
    store = SqliteStore(root / ".ordo" / "state.db")
    try:
        job = store.create_job(
            JobSpec(name="effects", manifest="queue/manifest.yaml", params={"region": "eu"}),
            origin=JobOrigin.API,
            at=datetime.now(UTC),
        )
        first = store.enqueue_run(job.id, trigger=RunTrigger.API, at=datetime.now(UTC))
        second = store.enqueue_run(
            job.id, trigger=RunTrigger.CLI, at=datetime.now(UTC), params={"region": "us"}
        )
        worker = Worker(store, root, settings=WorkerSettings(heartbeat=0.2))
        try:
            assert worker.run_one()
            assert worker.run_one()
            assert not worker.run_one()
        finally:
            worker.close()
        for run in (first, second):
            done = store.get_service_run(run.id)
            assert done.status is ServiceRunStatus.COMPLETED, done.error
            assert done.outcome == "success"
            assert done.ordo_run_id is not None
            detail = store.get_run(done.ordo_run_id)
            assert [t.step for t in detail.tasks] == ["make", "one", "two"]
            assert store.trigger_of(done.ordo_run_id) == run.trigger.value  # the UI's reading
    finally:
        store.close()
    assert effects(root) == [(1, "eu"), (1, "us"), (2, "eu"), (2, "us")]
    assert (root / "queue" / "manifest.yaml").read_text() == before
    engine = create_engine(f"sqlite:///{root / 'data' / 'test.db'}")
    try:
        with engine.connect() as conn:  # each run's rows went when it ended
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM ordo_ledger").scalar_one() == 0
    finally:
        engine.dispose()


def test_a_run_that_cannot_plan_fails_with_the_reason(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    store = SqliteStore(root / ".ordo" / "state.db")
    try:
        job = store.create_job(
            JobSpec(name="effects", manifest="queue/manifest.yaml"),
            origin=JobOrigin.API,
            at=datetime.now(UTC),
        )
        (root / "queue" / "manifest.yaml").write_text("name: effects\nsteps: 3\n")
        run = store.enqueue_run(job.id, trigger=RunTrigger.API, at=datetime.now(UTC))
        worker = Worker(store, root)
        try:
            assert worker.run_one()
        finally:
            worker.close()
        done = store.get_service_run(run.id)
        assert done.status is ServiceRunStatus.FAILED
        assert done.error is not None
        assert "manifest.yaml" in done.error
    finally:
        store.close()


def test_cancel_stops_a_running_run_and_rolls_back_its_unit(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: slow
        steps:
          - name: make
            sql: CREATE TABLE IF NOT EXISTS effects (n INT, region TEXT)
          - name: slow
            file: slow.py
          - name: after
            sql: INSERT INTO effects VALUES (9, 'after')
        """,
        python={"slow.py": "import time\ntime.sleep(30)\n"},
    )
    store = SqliteStore(root / ".ordo" / "state.db")
    try:
        job = store.create_job(
            JobSpec(name="slow", manifest="queue/manifest.yaml"),
            origin=JobOrigin.API,
            at=datetime.now(UTC),
        )
        run = store.enqueue_run(job.id, trigger=RunTrigger.API, at=datetime.now(UTC))
        worker = Worker(store, root, settings=WorkerSettings(heartbeat=0.2))
        thread = threading.Thread(target=worker.run_one)
        thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = store.get_service_run(run.id)
            if found.ordo_run_id and any(
                t.step == "slow" and t.status.value == "RUNNING"
                for t in _tasks(store, found.ordo_run_id)
            ):
                break
            time.sleep(0.1)
        store.request_cancel(run.id, at=datetime.now(UTC))
        thread.join(timeout=30)
        assert not thread.is_alive()
        worker.close()
        done = store.get_service_run(run.id)
        assert done.status is ServiceRunStatus.CANCELLED
        assert done.outcome == "aborted"
    finally:
        store.close()
    assert effects(root) == []


def _tasks(store: SqliteStore, run_id: str) -> list[TaskRecord]:
    try:
        return list(store.get_run(run_id).tasks)
    except RunNotFound:  # not recorded yet
        return []


def test_an_extract_load_job_runs_its_one_load_step(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    (root / "incoming").mkdir()
    (root / "incoming" / "orders.csv").write_text("id,qty\n1,2\n3,4\n", encoding="utf-8")
    store = SqliteStore(root / ".ordo" / "state.db")
    try:
        job = store.create_job(
            JobSpec(
                name="copy",
                extractor_type="csv",
                extractor_config={"path": "incoming/orders.csv"},
                loader_type="table",
                loader_config={"table": "orders", "mode": "replace"},
            ),
            origin=JobOrigin.API,
            at=datetime.now(UTC),
        )
        run = store.enqueue_run(job.id, trigger=RunTrigger.API, at=datetime.now(UTC))
        worker = Worker(store, root)
        try:
            assert worker.run_one()
        finally:
            worker.close()
        done = store.get_service_run(run.id)
        assert done.status is ServiceRunStatus.COMPLETED, done.error
        assert done.ordo_run_id is not None
        [task] = store.get_run(done.ordo_run_id).tasks
        assert (task.step, task.rows_affected) == ("load", 2)
    finally:
        store.close()
    engine = create_engine(f"sqlite:///{root / 'data' / 'test.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, qty FROM orders ORDER BY id").all()
    finally:
        engine.dispose()
    assert [(str(a), str(b)) for a, b in rows] == [("1", "2"), ("3", "4")]  # CSV text
