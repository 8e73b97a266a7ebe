"""``ordo runs`` and ``ordo runs show`` end to end, on a store the recorder filled.

The store is built by feeding a ``StoreRecorder`` scripted events, then read by ``ordo`` (run
in this process: only its output and exit code are checked), as a user would after a run.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.config import Settings
from ordo.events import RunStatus
from ordo.masking import Masker
from ordo.store import open_store
from ordo.store.testing import RunScript
from ordo.subscribers.store import StoreRecorder
from tests.support.cli import run_in_process

SECRET = "Hunter2-Secret"
MANIFEST = "name: nightly\nsteps:\n  - name: create\n    sql: SELECT 1  # the exact text\n"
T0 = datetime(2026, 4, 1, 9, 30)


def ordo(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_in_process("runs", *args, cwd=cwd, env=env, drop=("DB_", "ORDO_"))


def record(root: Path, *scripts: RunScript, values: dict[str, str] | None = None) -> None:
    """Feed each finished script's run to a recorder writing the project's store."""
    settings = Settings(values=values or {}, root=root)
    store = open_store(settings, root)
    try:
        for script in scripts:
            recorder = StoreRecorder(
                store,
                job_name=script.pipeline,
                manifest_path=root / "queue" / "manifest.yaml",
                manifest_text=MANIFEST,
                masker=Masker([SECRET]),
            )
            for event in script.take():
                recorder.handle(event)
    finally:
        store.close()


def history(root: Path, values: dict[str, str] | None = None) -> tuple[str, str, str]:
    """Three runs: a success, a failure after a retry and a rollback, an aborted rehearsal."""
    ok = RunScript(["create", "load"], run_id="aa11" + "0" * 28, pipeline="nightly", at=T0)
    ok.unit_succeeds("create").unit_succeeds("load", rows=1200).finish()
    failed = RunScript(
        ["create", "load", "g1", "g2", "report"],
        run_id="bb22" + "1" * 28,
        pipeline="nightly",
        at=T0 + timedelta(hours=1),
    )
    failed.unit_succeeds("create", rows=None)
    failed.unit_retries("load", failing="load", error="deadlock detected")
    failed.unit_succeeds("load", attempt=2, rows=7)
    failed.unit_fails("g1", "g2", failing="g2", error=f"password {SECRET} rejected", group="9")
    failed.finish()
    other = RunScript(
        ["extract"], run_id="bb33" + "2" * 28, pipeline="weekly", at=T0 + timedelta(hours=2)
    )
    other.step_started("extract").finish(RunStatus.ABORTED)
    record(root, ok, failed, other, values=values)
    return ok.run_id, failed.run_id, other.run_id


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "queue").mkdir(parents=True)
    (root / "queue" / "manifest.yaml").write_text(MANIFEST)
    return root


def test_runs_lists_recent_runs_newest_first(project: Path) -> None:
    ok, failed, other = history(project)
    done = ordo(cwd=project)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line for line in lines if any(i[:8] in line for i in (ok, failed, other))]
    assert [row.split()[1] for row in rows] == [other[:8], failed[:8], ok[:8]]
    assert "weekly" in rows[0]
    assert "aborted" in rows[0]
    assert "nightly" in rows[1]
    assert "failed" in rows[1]
    assert "success" in rows[2]
    for header in ("run", "pipeline", "status", "started", "duration", "done", "failed"):
        assert header in lines[1]


def test_runs_json_limit_and_pipeline(project: Path) -> None:
    ok, failed, _other = history(project)
    done = ordo(
        "--json",
        "--limit",
        "2",
        "--pipeline",
        "nightly",
        "--project",
        str(project),
        cwd=project.parent,
    )
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["id"] for r in runs] == [failed, ok]
    first = runs[0]
    assert first["status"] == "failed"
    assert first["pipeline"] == "nightly"
    assert first["steps"] == {"total": 5, "completed": 2, "failed": 2, "skipped": 1}
    assert first["error"] == "step 'g2': password *** rejected"
    assert datetime.fromisoformat(first["started_at"]).tzinfo is not None
    assert first["duration_seconds"] >= 0


def test_runs_show_prints_each_step(project: Path) -> None:
    _ok, failed, _other = history(project)
    done = ordo("show", failed[:6], cwd=project)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert failed in out
    assert "step 'g2': password *** rejected" in out
    rows = {line.split()[3]: line for line in out.splitlines() if line.startswith("│ ")}
    assert "COMPLETED" in rows["load"]
    assert " 2 " in rows["load"]
    assert " 7 " in rows["load"]
    assert "FAILED" in rows["g1"]
    assert "rolled back" in rows["g1"]
    assert "FAILED" in rows["g2"]
    assert "SKIPPED" in rows["report"]
    assert "not run" in rows["report"]
    assert SECRET not in out + done.stderr


def test_runs_show_json(project: Path) -> None:
    _ok, failed, other = history(project)
    done = ordo("show", failed, "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert run["id"] == failed
    steps = {t["step"]: t for t in run["tasks"]}
    assert [t["step"] for t in run["tasks"]] == ["create", "load", "g1", "g2", "report"]
    assert (steps["load"]["status"], steps["load"]["attempts"], steps["load"]["rows"]) == (
        "COMPLETED",
        2,
        7,
    )
    assert steps["g2"]["error"] == "password *** rejected"
    assert steps["report"]["status"] == "SKIPPED"
    assert SECRET not in done.stdout
    aborted = json.loads(ordo("show", other, "--json", cwd=project).stdout)
    assert aborted["status"] == "aborted"
    assert aborted["tasks"][0]["status"] == "FAILED"


def test_runs_show_manifest_prints_the_exact_text(project: Path) -> None:
    ok, _failed, _other = history(project)
    done = ordo("show", ok, "--manifest", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout == MANIFEST


def test_an_unknown_run_id_exits_2_naming_it(project: Path) -> None:
    history(project)
    done = ordo("show", "ffff", cwd=project)
    assert done.returncode == 2
    assert "no run with id 'ffff'" in done.stderr
    assert "ordo runs" in done.stderr  # the hint
    ambiguous = ordo("show", "bb", cwd=project)
    assert ambiguous.returncode == 2
    assert "ambiguous" in ambiguous.stderr


def test_a_project_that_never_ran_has_no_runs_and_gets_no_store(project: Path) -> None:
    done = ordo(cwd=project)
    assert done.returncode == 0, done.stderr
    assert "No runs recorded yet." in done.stdout
    assert json.loads(ordo("--json", cwd=project).stdout) == []
    assert ordo("show", "abc", cwd=project).returncode == 2
    assert not (project / ".ordo").exists()


def test_a_bad_limit_exits_2(project: Path) -> None:
    done = ordo("--limit", "0", cwd=project)
    assert done.returncode == 2
    assert "--limit" in done.stderr


@pytest.mark.postgres
def test_runs_read_a_postgresql_store_named_in_config_env(project: Path, postgres_url: URL) -> None:
    url = postgres_url.render_as_string(hide_password=False)
    _ok, failed, _other = history(project, values={"ORDO_STATE_URL": url})
    (project / "config").mkdir()
    (project / "config" / ".env").write_text(f"ORDO_STATE_URL={url}\n")
    done = ordo("show", failed[:8], "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == failed
    assert not (project / ".ordo").exists()
