"""``ordo db list|health|pool|query`` end to end, as a user runs them (a subprocess)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import URL

from tests.support.cli import Runner
from tests.support.net import closed_port
from tests.support.seeds import HEALTH_KEYS, POOL_KEYS

PASSWORD = "Cli-Secret-pw7"  # PostgreSQL here uses trust auth and ignores it
ENV = {"ORDO_ENV": "development"}


def project(root: Path, *lines: str) -> Path:
    """A project whose ``config/.env`` holds ``lines``, with a SQLite default database."""
    (root / "config").mkdir(parents=True)
    (root / "data").mkdir()
    env = ["DATABASE_URL=sqlite:///data/main.db", *lines]
    (root / "config" / ".env").write_text("\n".join(env) + "\n", encoding="utf-8")
    return root


def rendered(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        assert PASSWORD not in output


# -- list ------------------------------------------------------------------------------------


def test_list_shows_names_types_and_masked_urls(ordo_cli: Runner, tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        f"DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING=postgresql://rpa:{PASSWORD}@127.0.0.1:5432/"
        "rpa_db?application_name=a_rather_long_application_name_for_the_table",
        "DEVELOPMENT_GLOBAL_SURVEYHUB_TYPE=sqlserver",
        "DEVELOPMENT_GLOBAL_SURVEYHUB_CONNECTION_STRING="
        f"mssql+pyodbc://hub:{PASSWORD}@127.0.0.1:1433/survey_hub?driver=ODBC+Driver+17+for+SQL+Server",
        "DEVELOPMENT_GLOBAL_LAKE_CONNECTION_STRING=duckdb:///data/lake.duckdb",
        "DEVELOPMENT_GLOBAL_LAKE_READ_ONLY=true",
    )
    done = ordo_cli("db", "list", cwd=root, env=ENV)
    assert done.returncode == 0, done.stderr
    assert_no_secret(done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    by_name = {
        name: next(line for line in lines if f" {name} " in line)
        for name in ("default", "rpa_db", "surveyhub", "lake")
    }
    assert "sqlite" in by_name["default"]
    assert f"sqlite:///{root.resolve()}/data/main.db" in by_name["default"]
    assert "postgresql" in by_name["rpa_db"]
    # whole, even when the output is not a terminal 80 columns wide
    assert (
        "postgresql+psycopg://rpa:***@127.0.0.1:5432/rpa_db"
        "?application_name=a_rather_long_application_name_for_the_table" in by_name["rpa_db"]
    )
    assert "sqlserver" in by_name["surveyhub"]
    assert "mssql+pyodbc://hub:***@127.0.0.1:1433/survey_hub" in by_name["surveyhub"]
    assert "duckdb" in by_name["lake"]
    assert "yes" in by_name["lake"]  # read-only
    assert "yes" not in by_name["rpa_db"]
    # default first, then by name
    order = [name for line in lines for name in by_name if by_name[name] == line]
    assert order == ["default", "lake", "rpa_db", "surveyhub"]


def test_list_reports_a_broken_connection_without_its_secret(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = project(
        tmp_path / "p",
        f"DEVELOPMENT_GLOBAL_BAD_CONNECTION_STRING=postgresql://u:{PASSWORD}@127.0.0.1/x",
        "DEVELOPMENT_GLOBAL_BAD_TYPE=oracle",
        f"DEVELOPMENT_GLOBAL_UGLY_CONNECTION_STRING=postgresql://u:{PASSWORD}@h:port/x",
    )
    done = ordo_cli("db", "list", cwd=root, env=ENV)
    assert done.returncode == 0, done.stderr
    assert_no_secret(done.stdout, done.stderr)
    assert "DEVELOPMENT_GLOBAL_BAD_TYPE" in done.stdout
    assert "DEVELOPMENT_GLOBAL_UGLY_CONNECTION_STRING" in done.stdout


def test_list_follows_ordo_env_and_seed_env_files(ordo_cli: Runner, tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "core" / "envs").mkdir(parents=True)
    (root / "core" / "envs" / ".env.production").write_text(
        f"PRODUCTION_GLOBAL_RPA_DB_CONNECTION_STRING=postgresql://u:{PASSWORD}@127.0.0.1/p\n",
        encoding="utf-8",
    )
    (root / "core" / "envs" / ".env.development").write_text(
        "DEVELOPMENT_GLOBAL_DEV_ONLY_CONNECTION_STRING=sqlite:///data/dev.db\n",
        encoding="utf-8",
    )
    production = ordo_cli("db", "list", cwd=root, env={"ORDO_ENV": "production"})
    assert production.returncode == 0, production.stderr
    assert " rpa_db " in production.stdout
    assert "dev_only" not in production.stdout
    development = ordo_cli("db", "list", cwd=root, env=ENV)
    assert " dev_only " in development.stdout
    assert "rpa_db" not in development.stdout
    assert_no_secret(production.stdout, development.stdout)


# -- health ----------------------------------------------------------------------------------


@pytest.fixture
def healthy_project(tmp_path: Path, postgres_url: URL) -> Path:
    return project(
        tmp_path / "p",
        f"DEVELOPMENT_GLOBAL_PG_CONNECTION_STRING={rendered(postgres_url.set(password=PASSWORD))}",
        "DEVELOPMENT_GLOBAL_LAKE_CONNECTION_STRING=duckdb:///data/lake.duckdb",
    )


def test_health_all_healthy_exits_0(ordo_cli: Runner, healthy_project: Path) -> None:
    done = ordo_cli("db", "health", cwd=healthy_project, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_no_secret(done.stdout, done.stderr)
    for name in ("default", "pg", "lake"):
        line = next(line for line in done.stdout.splitlines() if f" {name} " in line)
        assert "healthy" in line
        assert "unhealthy" not in line
    assert "connection" in done.stdout  # the header, whole


def test_health_json_has_seed_keys(ordo_cli: Runner, healthy_project: Path) -> None:
    done = ordo_cli("db", "health", "--json", cwd=healthy_project, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    reports = json.loads(done.stdout)
    assert [r["database_name"] for r in reports] == ["default", "lake", "pg"]
    for report in reports:
        assert set(report) == HEALTH_KEYS, report
        assert report["status"] == "healthy"
        assert report["migration_status"] == {"current_version": None, "pending_migrations": []}
    assert {r["database_type"] for r in reports} == {"sqlite", "duckdb", "postgresql"}


def test_health_of_named_connections_only(ordo_cli: Runner, healthy_project: Path) -> None:
    done = ordo_cli("db", "health", "PG", "--json", cwd=healthy_project, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["database_name"] for r in json.loads(done.stdout)] == ["pg"]


def test_health_exits_1_when_one_is_unhealthy(ordo_cli: Runner, tmp_path: Path) -> None:
    root = project(
        tmp_path / "p",
        f"DEVELOPMENT_GLOBAL_DEAD_CONNECTION_STRING=postgresql://u:{PASSWORD}@127.0.0.1:"
        f"{closed_port()}/x",
        "DEVELOPMENT_GLOBAL_DEAD_TIMEOUT=1",
    )
    done = ordo_cli("db", "health", cwd=root, env=ENV)
    assert done.returncode == 1, done.stdout + done.stderr
    assert_no_secret(done.stdout, done.stderr)
    dead = next(line for line in done.stdout.splitlines() if " dead " in line)
    assert "unhealthy" in dead
    assert "refused" in done.stdout  # the reason, not cut off
    default = next(line for line in done.stdout.splitlines() if " default " in line)
    assert "healthy" in default

    as_json = ordo_cli("db", "health", "--json", cwd=root, env=ENV)
    assert as_json.returncode == 1
    reports = {r["database_name"]: r for r in json.loads(as_json.stdout)}
    assert reports["dead"]["status"] == "unhealthy"
    assert set(reports["dead"]) == HEALTH_KEYS | {"error"}
    assert reports["default"]["status"] == "healthy"
    assert_no_secret(as_json.stdout)


def test_health_of_an_unknown_name_exits_2(ordo_cli: Runner, tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    done = ordo_cli("db", "health", "nosuch", cwd=root, env=ENV)
    assert done.returncode == 2
    assert "DEVELOPMENT_GLOBAL_NOSUCH_CONNECTION_STRING" in done.stderr


# -- pool ------------------------------------------------------------------------------------


def test_pool_prints_seed_keys(ordo_cli: Runner, tmp_path: Path, postgres_url: URL) -> None:
    root = project(
        tmp_path / "p",
        f"DEVELOPMENT_GLOBAL_PG_CONNECTION_STRING={rendered(postgres_url)}",
        "DEVELOPMENT_GLOBAL_PG_POOL_SIZE=4",
    )
    done = ordo_cli("db", "pool", "pg", cwd=root, env=ENV)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert set(status) == POOL_KEYS
    assert status["database_name"] == "pg"
    assert status["pool_size"] == 4
    assert status["checked_out"] == 0


def test_pool_of_a_missing_connection_exits_2(ordo_cli: Runner, tmp_path: Path) -> None:
    done = ordo_cli("db", "pool", "nosuch", cwd=project(tmp_path / "p"), env=ENV)
    assert done.returncode == 2
    assert "DEVELOPMENT_GLOBAL_NOSUCH_CONNECTION_STRING" in done.stderr


# -- query -----------------------------------------------------------------------------------


@pytest.fixture
def query_project(tmp_path: Path) -> Path:
    root = project(tmp_path / "p")
    with sqlite3.connect(root / "data" / "main.db") as conn:
        conn.execute("CREATE TABLE items (id INTEGER, name TEXT, note TEXT)")
        conn.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [(1, "plain", None), (2, 'comma, "quoted"', "[red]not markup[/red]")],
        )
    conn.close()
    return root


def test_query_prints_a_table(ordo_cli: Runner, query_project: Path) -> None:
    done = ordo_cli(
        "db", "query", "default", "SELECT id, name, note FROM items ORDER BY id", cwd=query_project
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if " id " in line)
    assert "name" in header
    assert "note" in header
    assert any(" 1 " in line and "plain" in line and "NULL" in line for line in lines)
    assert any("[red]not markup[/red]" in line for line in lines)


def test_query_as_csv(ordo_cli: Runner, query_project: Path) -> None:
    done = ordo_cli(
        "db", "query", "default", "SELECT id, name, note FROM items ORDER BY id",
        "--output", "csv", cwd=query_project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list(csv.reader(io.StringIO(done.stdout))) == [
        ["id", "name", "note"],
        ["1", "plain", ""],
        ["2", 'comma, "quoted"', "[red]not markup[/red]"],
    ]


def test_query_as_json(ordo_cli: Runner, query_project: Path) -> None:
    done = ordo_cli(
        "db", "query", "default", "SELECT id, name, note FROM items ORDER BY id",
        "--output", "json", cwd=query_project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        {"id": 1, "name": "plain", "note": None},
        {"id": 2, "name": 'comma, "quoted"', "note": "[red]not markup[/red]"},
    ]


def test_query_on_postgresql(ordo_cli: Runner, tmp_path: Path, postgres_url: URL) -> None:
    root = project(
        tmp_path / "p",
        f"DEVELOPMENT_GLOBAL_RPA_DB_CONNECTION_STRING={rendered(postgres_url.set(password=PASSWORD))}",
    )
    made = ordo_cli("db", "query", "RPA_DB", "CREATE TABLE t (x INTEGER)", cwd=root, env=ENV)
    assert made.returncode == 0, made.stderr
    wrote = ordo_cli("db", "query", "rpa_db", "INSERT INTO t VALUES (1), (2)", cwd=root, env=ENV)
    assert wrote.returncode == 0, wrote.stderr
    assert "2 rows affected" in wrote.stdout
    done = ordo_cli(
        "db", "query", "rpa_db", "SELECT sum(x) AS total FROM t", "-o", "json", cwd=root, env=ENV
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"total": 3}]  # the writes were committed


def test_a_write_is_committed(ordo_cli: Runner, query_project: Path) -> None:
    done = ordo_cli(
        "db", "query", "default", "UPDATE items SET name = 'changed' WHERE id = 1",
        cwd=query_project,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 row affected" in done.stdout
    with sqlite3.connect(query_project / "data" / "main.db") as conn:
        assert conn.execute("SELECT name FROM items WHERE id = 1").fetchone() == ("changed",)
    conn.close()


def test_bad_query_exits_1_with_one_line(ordo_cli: Runner, query_project: Path) -> None:
    done = ordo_cli("db", "query", "default", "SELECT * FROM no_such_table", cwd=query_project)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "no_such_table" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_query_error_never_shows_the_password(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    root = project(
        tmp_path / "p",
        f"DEVELOPMENT_GLOBAL_PG_CONNECTION_STRING={rendered(postgres_url.set(password=PASSWORD))}",
    )
    done = ordo_cli("db", "query", "pg", f"SELECT '{PASSWORD}' + 1", cwd=root, env=ENV)
    assert done.returncode == 1
    assert done.stderr.startswith("error:")
    assert_no_secret(done.stdout, done.stderr)


def test_missing_connection_exits_2_naming_the_variable(
    ordo_cli: Runner, query_project: Path
) -> None:
    done = ordo_cli("db", "query", "SurveyHub", "SELECT 1", cwd=query_project, env=ENV)
    assert done.returncode == 2
    assert "DEVELOPMENT_GLOBAL_SURVEYHUB_CONNECTION_STRING" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_output_format_exits_2(ordo_cli: Runner, query_project: Path) -> None:
    done = ordo_cli("db", "query", "default", "SELECT 1", "-o", "xml", cwd=query_project)
    assert done.returncode == 2
    assert "--output" in done.stderr


def test_query_with_project_option(ordo_cli: Runner, query_project: Path, tmp_path: Path) -> None:
    done = ordo_cli(
        "db", "query", "default", "SELECT count(*) AS n FROM items", "-o", "csv",
        "--project", str(query_project), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "2"]
