"""The web UI for tests: a project with real runs and tokens, served by a real uvicorn.

``ui_project`` makes a project on SQLite and runs it with ``ordo.run`` (a run that succeeds,
one that fails on a check, with their log files), creates a service job and one token of each
role. ``UiServer`` serves it with a real ``ordo serve`` subprocess on 127.0.0.1 (API, UI,
scheduler and workers) and stops it afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import httpx

import ordo
from ordo.service import tokens
from ordo.service.jobs import create_job, parse_job
from ordo.service.store import service_store
from ordo.store.tokens import Role
from tests.support.project import make_project

__all__ = ["SECRET_VALUE", "UiProject", "UiServer", "ui_project"]

SECRET_VALUE = "s3cr3t-Planted-Value-42"  # a password in the settings: no page may show it
MANIFEST = """\
    name: sales
    params: {floor: -100}
    steps:
      - name: create
        sql: CREATE TABLE IF NOT EXISTS sales (id INTEGER, amount INTEGER)
      - name: load
        sql: INSERT INTO sales VALUES (1, 10), (2, -5), (3, NULL)
      - name: report
        depends_on: [load]
        sql: SELECT COUNT(*) AS n FROM sales
      - name: check amounts
        depends_on: [load]
        type: validate
        checks:
          - name: amount_positive
            type: sql
            sql: SELECT id, amount FROM sales WHERE amount < {{ floor }}
    """


@dataclass(frozen=True)
class UiProject:
    root: Path
    tokens: dict[Role, str]
    runs: list[str]  # the ids of the runs made, oldest first
    job_id: str


def ui_project(tmp_path: Path, state_url: str | None = None) -> UiProject:
    """The project, its store the default SQLite file or ``state_url``'s."""
    env = (
        "DATABASE_URL=sqlite:///data/test.db\n"
        f"REPORT_DB_PASSWORD={SECRET_VALUE}\n"
        # a second connection that nothing answers, its password in its URL
        "DEVELOPMENT_GLOBAL_REPORTS_CONNECTION_STRING="
        f"postgresql+psycopg://report:{SECRET_VALUE}@127.0.0.1:1/reports\n"
        "ORDO_UI_SECRET=a-test-key-for-the-sessions\n"
    )
    if state_url is not None:
        env += f"ORDO_STATE_URL='{state_url}'\n"
    root = make_project(tmp_path / "project", MANIFEST, env=env)
    text = (root / "queue" / "manifest.yaml").read_text(encoding="utf-8")
    (root / "queue" / "manifest.yaml").write_text(text + "mark_done: false\n", encoding="utf-8")
    results = [  # one that succeeds, then one whose check fails
        ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False, params=params))
        for params in ({}, {"floor": 0})
    ]
    now = datetime.now(UTC)
    made: dict[Role, str] = {}
    with service_store(root, environ={}) as (store, settings):
        assert store is not None
        spec = parse_job(
            {"name": "sales", "manifest": "queue/manifest.yaml", "schedule": "30 2 * * *"}
        )
        job = create_job(store, spec, settings, now=now)
        for role in Role:
            made[role] = tokens.create_token(store, f"{role}-person", role, now=now).token
    return UiProject(root, made, [r.run_id for r in results if r.run_id], job.id)


class UiServer:
    """A real ``ordo serve`` for ``root`` on 127.0.0.1 with ``workers`` local workers (a
    subprocess, stopped afterwards); ``url`` is the UI's base (``.../ui``)."""

    def __init__(self, root: Path, *, workers: int = 0) -> None:
        self.root = root
        self.workers = workers
        self.url = ""
        self._said = root.parent / "ordo-serve.log"  # a pipe nobody reads would fill
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> UiServer:
        port = _free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("ORDO_") and not key.endswith(("_CONNECTION_STRING", "_URL"))
        }
        said = self._said.open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ordo",
                "serve",
                "--project",
                str(self.root),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(self.workers),
                "--lease",
                "5",
            ],
            stdout=subprocess.DEVNULL,
            stderr=said,
            text=True,
            env=env,
            cwd=self.root,
        )
        said.close()  # the server has its own copy
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    self.url = base + "/ui"
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("ordo serve did not start:\n" + self._said.read_text(encoding="utf-8"))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(40)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plant_run(
    root: Path,
    job: str,
    *,
    started: datetime,
    status: str | None = "success",
    error: str | None = None,
    step_error: str | None = None,
    steps: tuple[str, ...] = ("only",),
) -> str:
    """A run recorded straight into the project's store, as a runner would record it: ended
    with ``status`` (None leaves it running) and ``error``; its first step failed with
    ``step_error`` when given. Returns its id."""
    import uuid

    from ordo.store.base import PlannedTask, TaskOutcome, TaskStatus

    run_id = uuid.uuid4().hex
    with service_store(root, environ={}) as (store, _):
        assert store is not None
        job_id = store.record_job(job, f"queue/{job}.yaml", "planted")
        planned = [PlannedTask(step, i + 1, "sql", i + 1) for i, step in enumerate(steps)]
        text = (
            "name: "
            + job
            + "\nsteps:\n"
            + "".join(f"  - name: {s}\n    sql: SELECT 1\n" for s in steps)
        )
        store.start_run(run_id, job_id, started_at=started, manifest_text=text, tasks=planned)
        store.task_started(run_id, steps[0], attempt=1, at=started)
        if step_error is not None:
            store.task_finished(
                run_id, [TaskOutcome(steps[0], TaskStatus.FAILED, at=started, error=step_error)]
            )
        if status is not None:
            store.finish_run(run_id, status=status, at=started, error=error)
    return run_id
