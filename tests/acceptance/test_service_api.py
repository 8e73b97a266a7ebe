"""The REST API of a real ``ordo serve`` on 127.0.0.1, on SQLite and PostgreSQL stores: every
endpoint and its status codes, each role, revoked and expired tokens, metrics values."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.service import project as service
from tests.support.cli import run_process
from tests.support.project import make_project
from tests.support.service import Served, now, served

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
JOB = {
    "name": "effects",
    "manifest": "queue/manifest.yaml",
    "params": {"region": "eu"},
    "schedule": "0 6 * * *",
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    url: URL = request.getfixturevalue("postgres_url")
    return {"ORDO_STATE_URL": url.render_as_string(hide_password=False)}


def test_jobs_runs_tasks_and_workers_through_the_api(
    tmp_path: Path, store_env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    with served(root, env=store_env) as server:
        _jobs(server)
        _runs(server)


def _jobs(server: Served) -> None:
    with server.client("admin") as admin, server.client("viewer") as viewer:
        assert viewer.post("/jobs", json=JOB).status_code == 403
        missing = admin.post("/jobs", json={"manifest": "queue/manifest.yaml"})
        assert missing.status_code == 422
        assert missing.json()["field"] == "name"
        elsewhere = admin.post("/jobs", json={**JOB, "manifest": "nowhere.yaml"})
        assert elsewhere.status_code == 422
        assert elsewhere.json()["field"] == "manifest"
        assert "nowhere.yaml" in elsewhere.json()["message"]
        bad_cron = admin.post("/jobs", json={**JOB, "schedule": "every day"})
        assert bad_cron.status_code == 422
        assert bad_cron.json()["field"] == "schedule"
        created = admin.post("/jobs", json=JOB)
        assert created.status_code == 201, created.text
        job = created.json()
        assert job["next_fire"] is not None
        assert admin.post("/jobs", json=JOB).status_code == 409
        listed = viewer.get("/jobs").json()
        assert [j["name"] for j in listed] == ["effects"]
        assert viewer.get(f"/jobs/{job['id']}").json()["id"] == job["id"]
        assert viewer.get("/jobs/effects").json()["id"] == job["id"]
        assert viewer.get("/jobs/nope").status_code == 404
        changed = admin.put(f"/jobs/{job['id']}", json={**JOB, "schedule": None})
        assert changed.status_code == 200
        assert changed.json()["next_fire"] is None
        assert admin.put("/jobs/nope", json=JOB).status_code == 404
        assert viewer.delete(f"/jobs/{job['id']}").status_code == 403
        other = admin.post("/jobs", json={**JOB, "name": "gone"}).json()
        assert admin.delete(f"/jobs/{other['id']}").status_code == 204
        assert admin.get(f"/jobs/{other['id']}").status_code == 404


def _runs(server: Served) -> None:
    with (
        server.client("viewer") as viewer,
        server.client("operator") as operator,
        server.client("admin") as admin,
    ):
        assert viewer.post("/jobs/effects/run", json={}).status_code == 403
        bad = operator.post("/jobs/effects/run", json={"params": [1]})
        assert bad.status_code == 422
        assert bad.json()["field"] == "params"
        assert operator.post("/jobs/nope/run", json={}).status_code == 404
        queued = operator.post("/jobs/effects/run", json={"params": {"region": "us"}})
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] in ("PENDING", "RUNNING")
        run = server.wait_for_run(queued.json()["id"])
        assert (run["status"], run["outcome"], run["trigger"]) == ("COMPLETED", "success", "api")
        tasks = viewer.get(f"/job_runs/{run['id']}/tasks").json()
        assert [(t["step"], t["status"]) for t in tasks] == [
            ("make", "COMPLETED"),
            ("one", "COMPLETED"),
            ("two", "COMPLETED"),
        ]
        task = viewer.get(f"/tasks/{tasks[1]['id']}").json()
        assert (task["step"], task["job_run_id"]) == ("one", run["id"])
        assert (task["task_type"], task["attempt_count"], task["error_message"]) == ("sql", 1, None)
        assert run["job_definition_id"] == viewer.get("/jobs/effects").json()["id"]
        assert run["completed_at"] is not None
        assert viewer.get("/tasks/nope").status_code == 404
        assert viewer.get("/job_runs/nope").status_code == 404
        page = viewer.get("/job_runs", params={"job": "effects", "status": "COMPLETED"}).json()
        assert page["total"] == 1
        assert page["items"][0]["id"] == run["id"]
        assert viewer.get("/job_runs", params={"status": "NOPE"}).status_code == 422
        assert viewer.get("/job_runs", params={"limit": 0}).status_code == 422
        later = (now() + timedelta(hours=1)).isoformat()
        assert viewer.get("/job_runs", params={"since": later}).json()["total"] == 0
        log = viewer.get(f"/job_runs/{run['id']}/log")
        assert log.status_code == 200
        assert "one" in log.text
        finished = operator.post(f"/job_runs/{run['id']}/cancel")
        assert finished.status_code == 202
        assert finished.json()["status"] == "COMPLETED"  # over already: left as it was
        assert viewer.post(f"/job_runs/{run['id']}/cancel").status_code == 403
        workers = viewer.get("/workers").json()
        assert len(workers) == 2
        assert {w["state"] for w in workers} <= {"idle", "busy"}
        assert all(w["host"] and w["pid"] for w in workers)
        assert admin.delete("/jobs/effects").status_code == 409
        metrics = viewer.get("/metrics")
        assert metrics.status_code == 200
        assert 'ordo_runs{job="effects",status="COMPLETED"} 1.0' in metrics.text
        assert "ordo_queue_depth 0.0" in metrics.text
        assert 'ordo_run_duration_seconds_count{job="effects"} 1.0' in metrics.text
        assert 'ordo_rows_written_total{job="effects"} 2.0' in metrics.text


def test_tokens_no_token_bad_revoked_and_expired(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    with served(root, workers=0) as server, server.client(None) as client:
        assert client.get("/health").status_code == 200
        for path in ("/jobs", "/job_runs", "/workers", "/metrics"):
            refused = client.get(path)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
        bad = client.get("/jobs", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        revoked = server.token("soon-revoked", "admin")
        headers = {"Authorization": f"Bearer {revoked}"}
        assert client.get("/jobs", headers=headers).status_code == 200
        service.revoke_token("soon-revoked", project=root, environ=server.env)
        assert client.get("/jobs", headers=headers).status_code == 401
        expired = server.token("expired", "admin", expires="1h", now=now() - timedelta(hours=2))
        headers = {"Authorization": f"Bearer {expired}"}
        assert client.get("/jobs", headers=headers).status_code == 401
        out = server.output()
        assert revoked not in out
        assert "refused token 'soon-revoked'" in out


def test_metrics_can_be_public(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    with served(root, workers=0, extra=("--metrics-public",)) as server, server.client(None) as c:
        assert c.get("/metrics").status_code == 200
        assert c.get("/jobs").status_code == 401


def test_ordo_yaml_jobs_cli_triggers_checked_triggers_and_no_secret(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        MANIFEST,
        env="DATABASE_URL=sqlite:///data/test.db\nAPI_TOKEN=very-secret-value-42\n",
    )
    (root / "ordo.yaml").write_text(
        "jobs:\n"
        "  - name: from-file\n"
        "    manifest: queue/manifest.yaml\n"
        "    params: {region: very-secret-value-42}\n"
    )
    with served(root, workers=0) as server, server.client("operator") as operator:
        job = operator.get("/jobs/from-file").json()
        assert job["origin"] == "file"
        assert "very-secret-value-42" not in operator.get("/jobs").text
        typo = operator.post("/jobs/from-file/run", json={"select": ["nope"]})
        assert typo.status_code == 422
        assert typo.json()["field"] == "select"
        assert "nope" in typo.json()["message"]
        queued = run_process(
            "jobs", "run", "from-file", "-P", "region=north", cwd=root, env=server.env
        )
        assert queued.returncode == 0, queued.stderr
        run = operator.get(f"/job_runs/{queued.stdout.strip()}").json()
        assert (run["trigger"], run["status"], run["params"]) == (
            "cli",
            "PENDING",
            {"region": "north"},
        )
