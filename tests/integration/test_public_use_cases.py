"""Everything ``ordo`` does on the command line, done from Python with ``ordo``'s exports only.

One convention throughout: the project is ``project=`` (with ``env_file=`` and ``environ=``),
as for ``ordo.plan`` and ``ordo.run``. SQLite, so the test needs no server.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import ordo
from tests.support.project import make_project

MANIFEST = """\
name: nightly
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
  - name: fill
    sql: INSERT INTO t VALUES (1)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(
        tmp_path / "p",
        MANIFEST,
        env=(
            "DATABASE_URL=sqlite:///data/test.db\n"
            "DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING=sqlite:///data/app.db\n"
        ),
    )
    folder = root / "core" / "migrations" / "app"
    folder.mkdir(parents=True)
    (folder / "V1__create_a.sql").write_text("CREATE TABLE a (x INT);\n")
    (folder / "V2__create_b.sql").write_text("CREATE TABLE b (x INT);\n")
    return root


def test_migrations_from_python(project: Path) -> None:
    status = ordo.migration_status("app", project=project, environ={})
    assert isinstance(status, ordo.MigrationStatus)
    assert [m.script for m in status.pending] == ["V1__create_a.sql", "V2__create_b.sql"]
    result = ordo.migrate("app", target="1", project=project, environ={})
    assert isinstance(result, ordo.MigrateResult)
    assert result.current_version == "1"
    assert ordo.migration_status("app", project=project, environ={}).current_version == "1"
    repaired = ordo.repair_migrations("app", project=project, environ={})
    assert isinstance(repaired, ordo.RepairResult)
    assert not repaired.changed


def test_baseline_from_python(project: Path) -> None:
    ordo.baseline_migrations("app", version="1", project=project, environ={})
    assert ordo.migrate("app", project=project, environ={}).current_version == "2"
    with sqlite3.connect(project / "data" / "app.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "b" in tables
    assert "a" not in tables  # V1 was baselined, never run


def test_connections_from_python(project: Path) -> None:
    infos = ordo.list_connections(project=project, environ={})
    assert [(i.name, i.type) for i in infos] == [("default", "sqlite"), ("app", "sqlite")]
    assert all(isinstance(i, ordo.ConnectionInfo) for i in infos)
    [report] = ordo.health_check("app", project=project, environ={})
    assert report["database_name"] == "app"
    assert report["status"] in ("healthy", "degraded")  # degraded: migrations are pending
    assert ordo.pool_status("app", project=project, environ={})["database_name"] == "app"
    rows = ordo.query("default", "SELECT :n AS n", {"n": 7}, project=project, environ={})
    assert isinstance(rows, ordo.TabularResult)
    assert rows.records() == [{"n": 7}]


def test_the_environment_given_wins_over_the_env_files(project: Path) -> None:
    environ = {"DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING": "sqlite:///data/other.db"}
    ordo.query("app", "CREATE TABLE here (x INT)", project=project, environ=environ)
    assert (project / "data" / "other.db").exists()
    assert not (project / "data" / "app.db").exists()


def test_run_history_from_python(project: Path) -> None:
    done = ordo.run(project=project, environ={}, options=ordo.RunOptions(notify=False))
    [recorded] = ordo.list_runs(project=project, environ={})
    assert isinstance(recorded, ordo.RunRecord)
    assert recorded.id == done.run_id
    assert recorded.status == ordo.RunState.SUCCESS
    detail = ordo.show_run(done.run_id[:8], project=project, environ={})
    assert isinstance(detail, ordo.RunDetail)
    assert [t.step for t in detail.tasks] == ["create", "fill"]
    assert all(t.status == ordo.TaskStatus.COMPLETED for t in detail.tasks)
    with pytest.raises(ordo.RunNotFound):
        ordo.show_run("ffffffff", project=project, environ={})
