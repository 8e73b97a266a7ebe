"""``ordo migrate`` on real PostgreSQL and MariaDB with the names Flyway accepts.

A description over 200 characters used to be stored cut to 200 but compared whole, so the
next run refused the file and ``repair`` could not clear it; now it is stored and compared as
Flyway abbreviates it (197 characters and ``...``). ``V1__.sql`` and ``V2.sql`` used to be
refused and block the folder, subfolders were passed over without a word, and ``v2__lower.sql``
was an error: now the first two apply with an empty description (as in Flyway), a subfolder's
file is recorded as ``base/V3__first.sql``, and files that are not migrations are ignored with
a warning naming them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.cli import Runner
from tests.support.project import database_env

# 229 characters once "_" reads as " ": a file name holds at most 255 bytes
LONG = "_".join(["word"] * 46)
LONG_FILE = f"V1__{LONG}.sql"
STORED = LONG.replace("_", " ")[:197] + "..."


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


def project(root: Path, url: URL, files: dict[str, str]) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(database_env(url), encoding="utf-8")
    folder = root / "core" / "migrations" / "default"
    for name, sql in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(sql, encoding="utf-8")
    return root


def history(url: URL) -> list[tuple[str | None, str, str]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            query = "SELECT version, description, script FROM schema_version"
            query += " ORDER BY installed_rank"
            return [(r[0], r[1], r[2]) for r in conn.execute(text(query))]
    finally:
        engine.dispose()


def execute(url: URL, sql: str, **params: object) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def test_a_long_description_applies_then_stays_clean(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    root = project(tmp_path / "p", server_url, {LONG_FILE: "CREATE TABLE t (x INT);\n"})

    done = ordo_cli("migrate", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert history(server_url) == [("1", STORED, LONG_FILE)]

    again = ordo_cli("migrate", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "up to date at version 1" in again.stdout
    status = ordo_cli("migrate", "status", cwd=root)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "problem:" not in status.stdout
    repaired = ordo_cli("migrate", "repair", cwd=root)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "Nothing to repair." in repaired.stdout


def test_repair_clears_a_long_description_cut_by_an_older_run(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    root = project(tmp_path / "p", server_url, {LONG_FILE: "CREATE TABLE t (x INT);\n"})
    assert ordo_cli("migrate", cwd=root).returncode == 0
    cut = LONG.replace("_", " ")[:200]  # what the row held before: cut, no "..."
    execute(server_url, "UPDATE schema_version SET description = :d", d=cut)
    status = ordo_cli("migrate", "status", cwd=root)
    assert status.returncode == 1
    assert "was applied as" in status.stdout

    repaired = ordo_cli("migrate", "repair", cwd=root)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"realigned: {LONG_FILE}" in repaired.stdout
    assert history(server_url) == [("1", STORED, LONG_FILE)]
    assert ordo_cli("migrate", "status", cwd=root).returncode == 0


FLYWAY_NAMES = {
    "V1__.sql": "CREATE TABLE a (x INT);\n",
    "V2.sql": "CREATE TABLE b (x INT);\n",
    "base/V3__first.sql": "CREATE TABLE c (x INT);\n",
    "base/deeper/R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT x FROM a;\n",
    "v2__lower.sql": "CREATE TABLE never (x INT);\n",
    "notes.txt": "not a migration\n",
}


def test_flyway_names_and_subfolders_apply_and_other_files_are_named_in_a_warning(
    ordo_cli: Runner, tmp_path: Path, server_url: URL
) -> None:
    root = project(tmp_path / "p", server_url, FLYWAY_NAMES)

    done = ordo_cli("migrate", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied 4 migrations: <none> -> 3" in done.stdout
    assert history(server_url) == [
        ("1", "", "V1__.sql"),
        ("2", "", "V2.sql"),
        ("3", "first", "base/V3__first.sql"),
        (None, "views", "base/deeper/R__views.sql"),
    ]
    warning = [line for line in done.stderr.splitlines() if "ignored 2 files" in line]
    assert len(warning) == 1, done.stderr
    assert "notes.txt, v2__lower.sql" in warning[0]
    assert "Traceback" not in done.stderr

    again = ordo_cli("migrate", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "up to date at version 3" in again.stdout
    assert "notes.txt, v2__lower.sql" in again.stderr  # said on every run, never silently
    status = ordo_cli("migrate", "status", cwd=root)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "base/V3__first.sql" in status.stdout
    assert "notes.txt, v2__lower.sql" in status.stderr
