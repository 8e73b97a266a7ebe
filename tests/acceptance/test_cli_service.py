"""``ordo token`` and ``ordo jobs`` end to end, in a project folder, reading the store after."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from ordo.store.tokens import token_hash
from tests.support.cli import run_in_process
from tests.support.project import make_project

MANIFEST = """\
    name: sales
    steps:
      - name: load
        type: sql
        sql: SELECT 1
    """
JOBS = """\
    jobs:
      - name: nightly
        manifest: queue/manifest.yaml
        schedule: "30 2 * * *"
        timezone: Europe/Berlin
      - name: ad-hoc
        manifest: queue/manifest.yaml
        enabled: false
    """


def ordo(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_in_process(*args, cwd=cwd, env=env, drop=("DB_", "ORDO_"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project", MANIFEST)


def stored_rows(project: Path, table: str) -> str:
    with sqlite3.connect(project / ".ordo" / "state.db") as conn:
        return repr(conn.execute(f"SELECT * FROM {table}").fetchall())


def test_token_create_prints_the_token_alone_once_and_keeps_only_its_hash(project: Path) -> None:
    made = ordo(
        "token", "create", "--name", "ci", "--role", "operator", "--expires", "30d", cwd=project
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert made.stdout == token + "\n"
    assert token.startswith("ordo_")
    assert "It will not be shown again" in made.stderr
    assert "Token 'ci' (operator), valid until " in made.stderr
    kept = stored_rows(project, "tokens")
    assert token not in kept
    assert token_hash(token) in kept

    listed = ordo("token", "list", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "ci" in listed.stdout
    assert "operator" in listed.stdout
    assert "active" in listed.stdout
    as_json = ordo("token", "list", "--json", cwd=project)
    [entry] = json.loads(as_json.stdout)
    assert set(entry) == {"name", "role", "created_at", "expires_at", "revoked_at", "last_used_at"}
    for shown in (listed.stdout, as_json.stdout):
        assert token not in shown
        assert token_hash(token) not in shown


def test_token_revoke_and_what_is_refused(project: Path) -> None:
    assert ordo("token", "create", "--name", "ci", "--role", "admin", cwd=project).returncode == 0
    revoked = ordo("token", "revoke", "ci", cwd=project)
    assert (revoked.returncode, revoked.stdout) == (0, "Token 'ci' revoked: it no longer works.\n")
    assert "revoked" in ordo("token", "list", cwd=project).stdout

    again = ordo("token", "create", "--name", "ci", "--role", "admin", cwd=project)
    assert again.returncode == 2
    assert "a token named 'ci' exists already" in again.stderr
    assert again.stdout == ""
    role = ordo("token", "create", "--name", "x", "--role", "boss", cwd=project)
    assert (role.returncode, "'boss' is not a role" in role.stderr) == (2, True)
    expiry = ordo(
        "token", "create", "--name", "x", "--role", "viewer", "--expires", "soon", cwd=project
    )
    assert (expiry.returncode, "'soon' is not a duration" in expiry.stderr) == (2, True)
    unknown = ordo("token", "revoke", "nobody", cwd=project)
    assert (unknown.returncode, "no token named 'nobody'" in unknown.stderr) == (2, True)
    for result in (again, role, expiry, unknown):
        assert "Traceback" not in result.stderr


def test_looking_at_a_project_without_a_store_creates_none(project: Path) -> None:
    jobs = ordo("jobs", "list", cwd=project)
    assert (jobs.returncode, jobs.stdout.strip()) == (
        0,
        "No jobs yet: declare them in ordo.yaml, then `ordo jobs sync`.",
    )
    assert "No tokens yet" in ordo("token", "list", cwd=project).stdout
    assert not (project / ".ordo").exists()
    elsewhere = {"ORDO_STATE_URL": "sqlite:///history/state.db"}
    assert "No jobs yet" in ordo("jobs", "list", cwd=project, env=elsewhere).stdout
    assert not (project / "history").exists()


def test_jobs_sync_then_list_shows_each_job_with_its_next_fire(project: Path) -> None:
    (project / "ordo.yaml").write_text(textwrap.dedent(JOBS), encoding="utf-8")
    synced = ordo("jobs", "sync", cwd=project)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout == "created   nightly, ad-hoc\n"
    assert ordo("jobs", "sync", cwd=project).stdout == "unchanged nightly, ad-hoc\n"

    listed = ordo("jobs", "list", cwd=project)
    assert listed.returncode == 0, listed.stderr
    [nightly] = [line for line in listed.stdout.splitlines() if "nightly" in line]
    assert "30 2 * * *" in nightly
    assert "At 02:30 every day" in nightly
    assert "Europe/Berlin" in nightly
    assert "yes" in nightly
    assert " 02:30 CE" in nightly  # CET or CEST: on the job's own clock
    [ad_hoc] = [line for line in listed.stdout.splitlines() if "ad-hoc" in line]
    assert " no " in ad_hoc

    shown = {
        job["name"]: job for job in json.loads(ordo("jobs", "list", "--json", cwd=project).stdout)
    }
    assert shown["ad-hoc"]["next_fire"] is None
    upcoming = datetime.fromisoformat(shown["nightly"]["next_fire"])
    assert upcoming.utcoffset() is not None
    assert shown["nightly"]["schedule_in_words"] == "At 02:30 every day"


def test_a_mistake_in_ordo_yaml_names_the_file_the_job_and_the_field(project: Path) -> None:
    (project / "ordo.yaml").write_text(
        "jobs:\n  - name: nightly\n    manifest: queue/manifest.yaml\n    schedule: '61 * * * *'\n",
        encoding="utf-8",
    )
    failed = ordo("jobs", "sync", cwd=project)
    assert failed.returncode == 2
    assert f"{project / 'ordo.yaml'}: job 'nightly', field schedule: " in failed.stderr
    assert "bad minute" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_store_that_keeps_nothing_is_refused_with_a_hint(project: Path) -> None:
    made = ordo(
        "token",
        "create",
        "--name",
        "ci",
        "--role",
        "admin",
        cwd=project,
        env={"ORDO_STATE_URL": "memory://"},
    )
    assert made.returncode == 2
    assert "jobs and tokens need a SQLite or PostgreSQL state store" in made.stderr
    assert made.stdout == ""
