"""``ordo migrate`` end to end on SQLite: apply, dry run, target, status, repair, baseline."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import Runner

FILES = {
    "V1__create_a.sql": "CREATE TABLE a (x INT);\n",
    "V1.9__create_b.sql": "CREATE TABLE b (x INT);\n",
    "V1.10__create_c.sql": "CREATE TABLE c (x INT);\nINSERT INTO c VALUES (1);\n",
    "R__view.sql": "CREATE VIEW IF NOT EXISTS v AS SELECT x FROM a;\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(
        "DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING=sqlite:///app.db\n"
    )
    folder = root / "core" / "migrations" / "app"
    folder.mkdir(parents=True)
    for name, text in FILES.items():
        (folder / name).write_text(text)
    return root


def versions(root: Path) -> list[str | None]:
    with sqlite3.connect(root / "app.db") as conn:
        return [
            r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY installed_rank")
        ]


def test_dry_run_lists_in_numeric_order_and_runs_nothing(ordo_cli: Runner, project: Path) -> None:
    done = ordo_cli("migrate", "app", "--dry-run", cwd=project)
    assert done.returncode == 0, done.stderr
    listed = [line.strip() for line in done.stdout.splitlines() if line.strip().endswith(".sql")]
    assert listed == [
        "V1__create_a.sql",
        "V1.9__create_b.sql",
        "V1.10__create_c.sql",
        "R__view.sql",
    ]
    assert "Dry Run Complete" in done.stdout
    assert not (project / "app.db").exists()


def test_apply_then_status_then_nothing_to_do(ordo_cli: Runner, project: Path) -> None:
    done = ordo_cli("migrate", "app", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "Applied 4 migrations: <none> -> 1.10" in done.stdout
    assert versions(project) == ["1", "1.9", "1.10", None]
    status = ordo_cli("migrate", "status", "APP", cwd=project)  # names match in any case
    assert status.returncode == 0, status.stderr
    assert "Current version: 1.10" in status.stdout
    again = ordo_cli("migrate", "app", cwd=project)
    assert again.returncode == 0
    assert "up to date at version 1.10" in again.stdout


def test_target_stops_at_that_version(ordo_cli: Runner, project: Path) -> None:
    done = ordo_cli("migrate", "app", "--target", "1.9", cwd=project)
    assert done.returncode == 0, done.stderr
    assert versions(project)[:2] == ["1", "1.9"]
    assert "1.10" not in versions(project)


def test_a_tampered_file_is_refused_until_repaired(ordo_cli: Runner, project: Path) -> None:
    assert ordo_cli("migrate", "app", cwd=project).returncode == 0
    tampered = project / "core" / "migrations" / "app" / "V1__create_a.sql"
    tampered.write_text("CREATE TABLE a (x INT, y INT);\n")
    (project / "core" / "migrations" / "app" / "V2__create_d.sql").write_text(
        "CREATE TABLE d (x INT);\n"
    )
    refused = ordo_cli("migrate", "app", cwd=project)
    assert refused.returncode != 0
    assert "V1__create_a.sql" in refused.stderr
    assert "repair" in refused.stderr
    assert "2" not in versions(project)
    status = ordo_cli("migrate", "status", "app", cwd=project)
    assert status.returncode == 1
    assert "V1__create_a.sql" in status.stdout
    repaired = ordo_cli("migrate", "repair", "app", cwd=project)
    assert repaired.returncode == 0, repaired.stderr
    assert "realigned: V1__create_a.sql" in repaired.stdout
    assert ordo_cli("migrate", "app", cwd=project).returncode == 0
    assert "2" in versions(project)


def test_baseline_skips_files_up_to_the_version(ordo_cli: Runner, project: Path) -> None:
    done = ordo_cli("migrate", "baseline", "app", "--version", "1.9", cwd=project)
    assert done.returncode == 0, done.stderr
    assert ordo_cli("migrate", "app", cwd=project).returncode == 0
    with sqlite3.connect(project / "app.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "c" in tables
    assert "a" not in tables  # V1 was at or below the baseline
    assert "b" not in tables


def test_missing_folder_and_unknown_connection_exit_2(ordo_cli: Runner, project: Path) -> None:
    unknown = ordo_cli("migrate", "nope", cwd=project)
    assert unknown.returncode == 2
    assert "DEVELOPMENT_GLOBAL_NOPE_CONNECTION_STRING" in unknown.stderr
    (project / "config" / ".env").write_text(
        "DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING=sqlite:///app.db\n"
        "DEVELOPMENT_GLOBAL_OTHER_CONNECTION_STRING=sqlite:///other.db\n"
    )
    no_folder = ordo_cli("migrate", "other", cwd=project)
    assert no_folder.returncode == 2
    assert "DEVELOPMENT_GLOBAL_OTHER_MIGRATIONS" in no_folder.stderr


def test_the_history_table_name_is_a_setting(ordo_cli: Runner, project: Path) -> None:
    env = project / "config" / ".env"
    env.write_text(env.read_text() + "DEVELOPMENT_GLOBAL_APP_MIGRATIONS_TABLE=flyway_history\n")
    assert ordo_cli("migrate", "app", cwd=project).returncode == 0
    with sqlite3.connect(project / "app.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "flyway_history" in tables
    assert "schema_version" not in tables
