"""The API app on a store its caller opened (to share with the web UI's router): it uses that
store and leaves it open when it stops."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from ordo.config import Settings
from ordo.service import tokens
from ordo.service.app import create_app
from ordo.store.jobs import JobOrigin, JobSpec
from ordo.store.sqlite import SqliteStore
from tests.support.project import make_project


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
        with TestClient(create_app(root, opened=(store, settings))) as client:
            assert client.get("/health").status_code == 200
            assert client.get("/jobs").status_code == 401
            shown = client.get("/jobs", headers={"Authorization": f"Bearer {made.token}"})
            assert [job["name"] for job in shown.json()] == ["one"]
        assert [job.name for job in store.list_jobs()] == ["one"]  # still open
    finally:
        store.close()
