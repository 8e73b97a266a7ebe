"""Workers of a real ``ordo serve``: a worker killed with SIGKILL mid-run loses its lease and
another resumes the run, every SQL step applied exactly once (PostgreSQL); a cancel stops a
running run and rolls back its unit; ``max_active_runs`` keeps a second run waiting."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, create_engine

from tests.support.cli import spawn_ordo
from tests.support.project import database_env, make_project
from tests.support.service import Served, served

SQL_STEPS = 12


def counted_manifest() -> str:
    lines = ["name: counted", "steps:"]
    for n in range(1, SQL_STEPS + 1):
        lines += [f"  - name: s{n}", f"    sql: INSERT INTO effects VALUES ({n})"]
        lines += [f"  - name: pause{n}", "    file: pause.py"]
    return "\n".join(lines) + "\n"


def tasks(server: Served, run_id: str) -> dict[str, str]:
    with server.client("viewer") as viewer:
        found: list[dict[str, Any]] = viewer.get(f"/job_runs/{run_id}/tasks").json()
    return {t["step"]: t["status"] for t in found}


def wait_for(predicate: Any, server: Served, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)


@pytest.mark.postgres
def test_a_worker_killed_mid_run_is_resumed_by_another_exactly_once(
    tmp_path: Path, postgres_url: URL
) -> None:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE effects (n INT)")
    engine.dispose()
    root = make_project(
        tmp_path / "p",
        counted_manifest(),
        python={"pause.py": "import time\ntime.sleep(0.3)\n"},
        env=database_env(postgres_url),
    )
    state = {"ORDO_STATE_URL": postgres_url.render_as_string(hide_password=False)}
    with served(root, env=state, workers=2, lease=2) as server:
        with server.client("admin") as admin:
            job = {"name": "counted", "manifest": "queue/manifest.yaml"}
            assert admin.post("/jobs", json=job).status_code == 201
            run_id = admin.post("/jobs/counted/run", json={}).json()["id"]
        wait_for(lambda: tasks(server, run_id).get("s4") == "COMPLETED", server)
        with server.client("viewer") as viewer:
            holder = next(w for w in viewer.get("/workers").json() if w["current_run"] == run_id)
        os.kill(holder["pid"], signal.SIGKILL)
        run = server.wait_for_run(run_id, timeout=120)
        assert (run["status"], run["outcome"]) == ("COMPLETED", "success"), run
        assert run["attempts"] == 2
        assert run["worker_id"] != holder["id"]
        with server.client("viewer") as viewer:
            states = {w["id"]: w["state"] for w in viewer.get("/workers").json()}
        assert states[holder["id"]] == "lost"
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT n, COUNT(*) FROM effects GROUP BY n").all()
    finally:
        engine.dispose()
    assert {int(n): int(c) for n, c in rows} == {n: 1 for n in range(1, SQL_STEPS + 1)}


SLOW = """\
    name: slow
    steps:
      - name: make
        sql: CREATE TABLE IF NOT EXISTS effects (n INT)
      - name: slow
        file: slow.py
      - name: after
        sql: INSERT INTO effects VALUES (9)
    """


def test_a_second_run_waits_and_cancel_stops_a_running_one(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", SLOW, python={"slow.py": "import time\ntime.sleep(60)\n"})
    with served(root, workers=2) as server, server.client("operator") as operator:
        with server.client("admin") as admin:
            job = {"name": "slow", "manifest": "queue/manifest.yaml", "max_active_runs": 1}
            assert admin.post("/jobs", json=job).status_code == 201
        first = operator.post("/jobs/slow/run", json={}).json()["id"]
        second = operator.post("/jobs/slow/run", json={}).json()["id"]
        wait_for(lambda: tasks(server, first).get("slow") == "RUNNING", server)
        time.sleep(1)  # both workers have polled the queue since
        assert operator.get(f"/job_runs/{second}").json()["status"] == "PENDING"
        assert operator.post(f"/job_runs/{first}/cancel").status_code == 202
        cancelled = server.wait_for_run(first)
        assert (cancelled["status"], cancelled["outcome"]) == ("CANCELLED", "aborted")
        server.wait_for_run(second, done=False)
        operator.post(f"/job_runs/{second}/cancel")
        assert server.wait_for_run(second)["status"] == "CANCELLED"
        pending = operator.post("/jobs/slow/run", json={}).json()["id"]
        # no worker may start it before the cancel: it is cancelled either way
        assert operator.post(f"/job_runs/{pending}/cancel").status_code == 202
        assert server.wait_for_run(pending)["status"] == "CANCELLED"
    engine = create_engine(f"sqlite:///{root / 'data' / 'test.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM effects").scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_ordo_worker_joins_through_the_shared_store_and_stops_on_sigterm(
    tmp_path: Path, postgres_url: URL
) -> None:
    root = make_project(tmp_path / "p", "name: one\nsteps:\n  - name: one\n    sql: SELECT 1\n")
    state = {"ORDO_STATE_URL": postgres_url.render_as_string(hide_password=False)}
    with served(root, env=state, workers=0) as server:
        worker = spawn_ordo("worker", cwd=root, env=server.env)
        try:
            with server.client("admin") as admin:
                job = {"name": "one", "manifest": "queue/manifest.yaml"}
                assert admin.post("/jobs", json=job).status_code == 201
                wait_for(lambda: len(admin.get("/workers").json()) == 1, server)
                [found] = admin.get("/workers").json()
                assert found["pid"] == worker.pid
                run_id = admin.post("/jobs/one/run", json={}).json()["id"]
                assert server.wait_for_run(run_id)["status"] == "COMPLETED"
                worker.send_signal(signal.SIGTERM)
                _, err = worker.communicate(timeout=60)
                assert worker.returncode == 0, err
                assert "waiting for runs" in err
                assert admin.get("/workers").json() == []  # stopped: no longer listed
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()


def test_the_workers_of_ordo_serve_read_its_env_file(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p", "name: one\nsteps:\n  - name: one\n    sql: SELECT 1\n", env=""
    )
    (root / "prod.env").write_text("DATABASE_URL=sqlite:///data/test.db\n", encoding="utf-8")
    with (
        served(root, workers=1, extra=("--env-file", "prod.env")) as server,
        server.client("admin") as admin,
    ):
        job = {"name": "one", "manifest": "queue/manifest.yaml"}
        assert admin.post("/jobs", json=job).status_code == 201, admin.get("/jobs").text
        run_id = admin.post("/jobs/one/run", json={}).json()["id"]
        run = server.wait_for_run(run_id)
        assert run["status"] == "COMPLETED", run
