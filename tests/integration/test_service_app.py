"""The API app on a store its caller opened (to share with the web UI's router): it uses that
store and leaves it open when it stops."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

from ordo.config import Settings
from ordo.service import tokens
from ordo.service.app import create_app
from ordo.store.jobs import JobOrigin, JobSpec
from ordo.store.sqlite import SqliteStore
from tests.support.project import make_project
from tests.support.service import free_port


def test_the_app_shares_a_store_it_was_given(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "name: one\nsteps:\n  - name: one\n    sql: SELECT 1\n")
    settings = Settings.load(root, environ={})
    store = SqliteStore(root / ".ordo" / "state.db")
    try:
        store.create_job(
            JobSpec(name="one", manifest="queue/manifest.yaml"),
            origin=JobOrigin.API,
            at=datetime.now(UTC),
        )
        made = tokens.create_token(store, "t", "viewer", now=datetime.now(UTC))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(root, opened=(store, settings)), port=port, log_level="error")
        )
        thread = threading.Thread(target=server.run)
        thread.start()
        try:
            while not server.started:
                assert thread.is_alive()
                time.sleep(0.02)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                assert client.get("/health").status_code == 200
                assert client.get("/jobs").status_code == 401
                shown = client.get("/jobs", headers={"Authorization": f"Bearer {made.token}"})
                assert [job["name"] for job in shown.json()] == ["one"]
        finally:
            server.should_exit = True
            thread.join(timeout=30)
        assert [job.name for job in store.list_jobs()] == ["one"]  # still open
    finally:
        store.close()


def test_an_extract_load_jobs_run_has_an_extract_and_a_load_task(tmp_path: Path) -> None:
    """The job scheduler's vocabulary for an extract-load job: its one load step is two
    tasks, EXTRACT and LOAD, each with its rows and its share of the step's time."""
    from ordo.service.worker import Worker
    from ordo.store.queue import RunTrigger

    root = make_project(tmp_path / "p", "name: one\nsteps:\n  - name: one\n    sql: SELECT 1\n")
    (root / "incoming").mkdir()
    (root / "incoming" / "orders.csv").write_text("id,qty\n1,2\n3,4\n", encoding="utf-8")
    settings = Settings.load(root, environ={})
    store = SqliteStore(root / ".ordo" / "state.db")
    try:
        job = store.create_job(
            JobSpec(
                name="copy",
                extractor_type="csv",
                extractor_config={"path": "incoming/orders.csv"},
                loader_type="table",
                loader_config={"table": "orders"},
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
        made = tokens.create_token(store, "t", "viewer", now=datetime.now(UTC))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(root, opened=(store, settings)), port=port, log_level="error")
        )
        thread = threading.Thread(target=server.run)
        thread.start()
        try:
            while not server.started:
                assert thread.is_alive()
                time.sleep(0.02)
            auth = {"Authorization": f"Bearer {made.token}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth) as client:
                tasks = client.get(f"/job_runs/{run.id}/tasks").json()
                assert [(t["task_type"], t["rows_affected"], t["status"]) for t in tasks] == [
                    ("EXTRACT", 2, "COMPLETED"),
                    ("LOAD", 2, "COMPLETED"),
                ]
                assert all(t["duration_ms"] is not None for t in tasks)
                one = client.get(f"/tasks/{tasks[0]['id']}")
                assert one.status_code == 200
                assert one.json()["task_type"] == "EXTRACT"
                assert client.get(f"/job_runs/{run.id}").json()["tasks"] == [t["id"] for t in tasks]
                base = tasks[0]["id"].rsplit("-", 1)[0]
                assert client.get(f"/tasks/{base}-transform").status_code == 404
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    finally:
        store.close()
