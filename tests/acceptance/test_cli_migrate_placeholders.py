"""``ordo migrate`` replaces Flyway's ``${placeholders}`` on real PostgreSQL and MariaDB.

Before, ``'${flyway:user}'`` was inserted literally (wrong data, silently) and a placeholder
without a value ran as written. Now the built-ins and configured values are replaced, a missing
one refuses the run before anything is applied, a repeatable runs again when one of its values
changes, and ``_MIGRATIONS_PLACEHOLDER_REPLACEMENT=false`` runs the files as written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from tests.support.cli import Runner
from tests.support.project import database_env

PREFIX = "DEVELOPMENT_GLOBAL_DEFAULT_"  # DATABASE_URL is the connection called "default"


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def server_url(request: pytest.FixtureRequest) -> URL:
    fixture = {"postgresql": "postgres_url", "mariadb": "mariadb_url"}[request.param]
    url: URL = request.getfixturevalue(fixture)
    return url


def project(root: Path, url: URL, files: dict[str, str], env: str = "") -> Path:
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / ".env").write_text(database_env(url) + env, encoding="utf-8")
    folder = root / "core" / "migrations" / "default"
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return root


def query(url: URL, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def tables(url: URL) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_built_ins_and_configured_values_are_written(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        "V1__who.sql": (
            "CREATE TABLE who (u VARCHAR(100), d VARCHAR(100), tb VARCHAR(100),"
            " f VARCHAR(100), team VARCHAR(100));\n"
            "INSERT INTO who VALUES ('${flyway:user}', '${flyway:database}', "
            "'${flyway:table}', '${flyway:filename}', '${team}');\n"
        )
    }
    root = project(tmp_path / "p", server_url, files, f"{PREFIX}PLACEHOLDERS_TEAM=blue\n")

    done = ordo_cli("migrate", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    user = server_url.username
    database = server_url.database  # PostgreSQL: one database, a schema per test
    assert query(server_url, "SELECT u, d, tb, f, team FROM who") == [
        (user, database, "schema_version", "V1__who.sql", "blue")
    ]
    # the value may change later: a versioned file keeps the checksum of its text as written
    (root / "config" / ".env").write_text(
        database_env(server_url) + f"{PREFIX}PLACEHOLDERS_TEAM=red\n", encoding="utf-8"
    )
    again = ordo_cli("migrate", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "up to date at version 1" in again.stdout


def test_a_placeholder_without_a_value_refuses_before_anything_runs(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        "V1__first.sql": "CREATE TABLE first_table (x INT);\n",
        "V2__grant.sql": "CREATE TABLE second_table (x INT);\n\nINSERT INTO second_table"
        " VALUES (${answer});\n",
    }
    root = project(tmp_path / "p", server_url, files)

    done = ordo_cli("migrate", cwd=root)
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    [line] = [x for x in (done.stdout + done.stderr).splitlines() if "${answer}" in x]
    assert "V2__grant.sql" in line
    assert "line 3" in line
    assert "no value" in line
    assert f"{PREFIX}PLACEHOLDERS_ANSWER" in done.stdout + done.stderr  # the hint
    assert tables(server_url) == set()  # not V1, not even the history table

    status = ordo_cli("migrate", "status", cwd=root)
    assert status.returncode == 1
    assert "${answer}" in status.stdout


def test_a_repeatable_runs_again_when_its_value_changes(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {
        "V1__t.sql": "CREATE TABLE t (x VARCHAR(20));\n",
        "R__label.sql": "DELETE FROM t;\nINSERT INTO t VALUES ('${label}');\n",
    }
    root = project(tmp_path / "p", server_url, files, f"{PREFIX}PLACEHOLDERS_LABEL=one\n")
    assert ordo_cli("migrate", cwd=root).returncode == 0
    assert query(server_url, "SELECT x FROM t") == [("one",)]
    same = ordo_cli("migrate", cwd=root)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "up to date" in same.stdout

    project(root, server_url, {}, f"{PREFIX}PLACEHOLDERS_LABEL=two\n")
    changed = ordo_cli("migrate", cwd=root)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert query(server_url, "SELECT x FROM t") == [("two",)]
    rows = query(server_url, "SELECT script FROM schema_version ORDER BY installed_rank")
    assert rows == [("V1__t.sql",), ("R__label.sql",), ("R__label.sql",)]


def test_replacement_switched_off_runs_the_text_as_written(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    files = {"V1__t.sql": "CREATE TABLE t (x VARCHAR(40));\nINSERT INTO t VALUES ('${not_set}');\n"}
    env = f"{PREFIX}MIGRATIONS_PLACEHOLDER_REPLACEMENT=false\n"
    root = project(tmp_path / "p", server_url, files, env)
    done = ordo_cli("migrate", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert query(server_url, "SELECT x FROM t") == [("${not_set}",)]
