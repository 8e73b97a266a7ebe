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
