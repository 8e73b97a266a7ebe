"""``ordo migrate`` splits real Flyway-style files as the server reads them, on PostgreSQL and
MariaDB: a ``;`` inside parentheses (``CREATE RULE ... DO ALSO (a; b)``), a column named
``begin``, ``BEGIN ATOMIC`` bodies, and the mysql client's ``DELIMITER`` lines with the
delimiter glued to ``END`` (``END$$``) or a one-character one (``DELIMITER #``).

Before, the rule was cut in two (a syntax error at ``DELETE FROM c)``), a ``begin`` column
merged the rest of the file into one statement (MariaDB refused it; PostgreSQL named the wrong
statement in its error), and a procedure ending in ``END$$`` or ``END #`` swallowed the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text
from sqlalchemy.pool import NullPool

from tests.support.cli import Runner


def project(tmp_path: Path, url: URL, files: dict[str, str]) -> Path:
    root = tmp_path / "p"
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(
        f"DEVELOPMENT_GLOBAL_APP_CONNECTION_STRING={url.render_as_string(hide_password=False)}\n"
    )
    folder = root / "core" / "migrations" / "app"
    folder.mkdir(parents=True)
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return root


def read(url: URL, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


POSTGRES_FILES = {
    "V1__tables.sql": (
        "CREATE TABLE a (id INT);\n"
        "CREATE TABLE b (id INT);\n"
        "CREATE TABLE c (id INT);\n"
        "CREATE TABLE t (begin INT, x INT);\n"
        "INSERT INTO t (begin, x) VALUES (1, 2);\n"
        "INSERT INTO t VALUES (3, 4);\n"
    ),
    "V2__rule.sql": (
        "CREATE RULE r AS ON DELETE TO a DO ALSO (DELETE FROM b; DELETE FROM c);\n"
        "INSERT INTO a VALUES (1);\n"
        "INSERT INTO b VALUES (1);\n"
        "INSERT INTO c VALUES (1);\n"
        "DELETE FROM a;\n"
    ),
    "V3__atomic.sql": (
        "CREATE PROCEDURE add_two(k int) LANGUAGE sql\n"
        "BEGIN ATOMIC\n"
        "  INSERT INTO t VALUES (k, 0);\n"
        "  INSERT INTO t VALUES (k + 1, 0);\n"
        "END;\n"
        "CALL add_two(5);\n"
    ),
}


@pytest.mark.postgres
def test_postgresql_rule_begin_column_and_atomic_body_apply(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    root = project(tmp_path, postgres_url, POSTGRES_FILES)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied 3 migrations" in done.stdout
    assert read(postgres_url, "SELECT count(*) FROM b") == [(0,)]  # the rule ran both deletes
    assert read(postgres_url, "SELECT count(*) FROM c") == [(0,)]
    assert read(postgres_url, "SELECT begin FROM t ORDER BY begin") == [(1,), (3,), (5,), (6,)]


@pytest.mark.postgres
def test_postgresql_error_names_the_statement_after_a_begin_column(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    files = {
        "V1__bad.sql": (
            "CREATE TABLE t (begin INT);\n"
            "INSERT INTO t VALUES (1);\n"
            "INSERT INTO nowhere VALUES (1);\n"
        )
    }
    root = project(tmp_path, postgres_url, files)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode != 0
    assert "INSERT INTO nowhere VALUES (1)" in done.stderr
    assert "CREATE TABLE t (begin INT)" not in done.stderr
    assert "Traceback" not in done.stderr


MARIADB_FILES = {
    "V1__procedures.sql": (
        "CREATE TABLE log (n INT);\n"
        "DELIMITER $$\n"
        "CREATE PROCEDURE add_log(IN k INT)\n"
        "BEGIN\n"
        "  -- two rows; one call\n"
        "  INSERT INTO log VALUES (k);\n"
        "  INSERT INTO log VALUES (k + 1);\n"
        "END$$\n"
        "DELIMITER ;\n"
        "CALL add_log(1);\n"
        "DELIMITER #\n"
        "CREATE FUNCTION twice(k INT) RETURNS INT DETERMINISTIC\n"
        "BEGIN\n"
        "  RETURN k * 2;\n"
        "END #\n"
        "DELIMITER ;\n"
        "# a comment again\n"
        "INSERT INTO log VALUES (twice(5));\n"
    ),
}


@pytest.mark.mariadb
def test_mariadb_procedures_between_delimiter_lines_apply(
    ordo_cli: Runner, tmp_path: Path, mariadb_url: URL
) -> None:
    root = project(tmp_path, mariadb_url, MARIADB_FILES)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied 1 migration:" in done.stdout
    assert read(mariadb_url, "SELECT n FROM log ORDER BY n") == [(1,), (2,), (10,)]


@pytest.mark.mariadb
def test_mariadb_a_begin_column_applies(ordo_cli: Runner, tmp_path: Path, mariadb_url: URL) -> None:
    files = {"V1__begin_column.sql": "CREATE TABLE t (begin INT); INSERT INTO t VALUES (1);\n"}
    root = project(tmp_path, mariadb_url, files)
    done = ordo_cli("migrate", "app", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert read(mariadb_url, "SELECT `begin` FROM t") == [(1,)]
