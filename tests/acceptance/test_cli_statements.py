"""Two statements in one sql step: refused at plan time, or run one by one when asked.

Without a check, PostgreSQL and DuckDB ran both silently while SQLite ("You can only execute
one statement at a time") and MariaDB (syntax error 1064) failed with raw driver text once the
run was under way. Now the plan refuses a second statement with its file and line (exit 2,
nothing run) unless the step says ``split_statements: true``, which runs each statement in
order in the step's transaction on every backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from tests.support.cli import Runner
from tests.support.project import database_env, make_project
from tests.support.runs import backend_of

TWO = """\
-- make the table; a comment with a ; in it
CREATE TABLE t (x INTEGER, note VARCHAR(20));
INSERT INTO t VALUES (1, 'a;b :c');
-- the end; nothing after this is a statement
"""


def project(tmp_path: Path, url: URL, manifest: str, **sql: str) -> Path:
    return make_project(tmp_path / "p", manifest, sql=sql, env=database_env(url))


def read(url: URL, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def has_table(url: URL, name: str) -> bool:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return inspect(engine).has_table(name)
    finally:
        engine.dispose()


def test_a_second_statement_is_refused_with_its_line(
    ordo_cli: Runner, tmp_path: Path, db_url: URL
) -> None:
    manifest = "name: s\nsteps:\n  - name: make\n    file: two.sql\n"
    root = project(tmp_path, db_url, manifest, **{"two.sql": TWO})
    before = (root / "queue" / "manifest.yaml").read_bytes()
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "two.sql:3:" in done.stderr
    assert "step 'make'" in done.stderr
    assert "2 statements" in done.stderr
    assert "INSERT INTO t" in done.stderr
    assert "split_statements: true" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert (root / "queue" / "manifest.yaml").read_bytes() == before
    assert not has_table(db_url, "t")


def test_split_statements_runs_each_in_order(ordo_cli: Runner, tmp_path: Path, db_url: URL) -> None:
    manifest = (
        "name: s\nsteps:\n  - name: make\n    file: two.sql\n    split_statements: true\n"
        "  - name: more\n    sql: |\n      INSERT INTO t VALUES (2, 'x');\n"
        "      INSERT INTO t VALUES (3, 'y');\n    split_statements: true\n"
    )
    root = project(tmp_path, db_url, manifest, **{"two.sql": TWO})
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert read(db_url, "SELECT x, note FROM t ORDER BY x") == [
        (1, "a;b :c"),
        (2, "x"),
        (3, "y"),
    ]
    assert "enabled: false  # Done:" in (root / "queue" / "manifest.yaml").read_text()


def test_split_statements_share_the_step_transaction(
    ordo_cli: Runner, tmp_path: Path, db_url: URL
) -> None:
    manifest = (
        "name: s\nsteps:\n  - name: make\n    sql: CREATE TABLE t (x INTEGER)\n"
        "  - name: fill\n    file: fill.sql\n    split_statements: true\n"
    )
    fill = "INSERT INTO t VALUES (1);\nINSERT INTO no_such_table VALUES (2);\n"
    root = project(tmp_path, db_url, manifest, **{"fill.sql": fill})
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "statement 2 of 2 (line 2)" in done.stdout + done.stderr  # once, on the console
    assert "Traceback" not in done.stdout + done.stderr
    assert read(db_url, "SELECT x FROM t") == []  # the first insert was rolled back


def test_a_trailing_semicolon_and_comment_are_one_statement(
    ordo_cli: Runner, tmp_path: Path, db_url: URL
) -> None:
    manifest = "name: s\nsteps:\n  - name: make\n    file: one.sql\n"
    one = "-- heading; with a semicolon\nCREATE TABLE t (x INTEGER);\n-- the end;\n"
    root = project(tmp_path, db_url, manifest, **{"one.sql": one})
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert has_table(db_url, "t")


def test_templated_sql_is_checked_after_rendering(
    ordo_cli: Runner, tmp_path: Path, db_url: URL
) -> None:
    manifest = (
        "name: s\nsteps:\n  - name: one\n    file: one.sql\n  - name: many\n    file: many.sql\n"
    )
    one = "{# a ; in a Jinja comment is no statement #}\nCREATE TABLE {{ 't' }} (x INTEGER);\n"
    many = "{% for i in range(2) %}\nINSERT INTO t VALUES ({{ i }});\n{% endfor %}\n"
    root = project(tmp_path, db_url, manifest, **{"one.sql": one, "many.sql": many})
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "step 'one'" not in done.stderr
    assert "many.sql" in done.stderr
    assert "of the rendered SQL" in done.stderr
    assert "INSERT INTO t VALUES (1)" in done.stderr


def test_inline_sql_names_the_manifest_line(ordo_cli: Runner, tmp_path: Path) -> None:
    manifest = "name: s\nsteps:\n  - name: two\n    sql: SELECT 1; SELECT 2\n"
    root = make_project(tmp_path / "p", manifest)
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "manifest.yaml:4:" in done.stderr
    assert "on line 1 of the inline sql: SELECT 2" in done.stderr


BODIES = {
    "sqlite": "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
    "  INSERT INTO seen VALUES (new.x);\n  INSERT INTO seen VALUES (new.x + 1);\nEND;\n",
    "mariadb": "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW BEGIN\n"
    "  INSERT INTO seen VALUES (NEW.x);\n  INSERT INTO seen VALUES (NEW.x + 1);\nEND;\n",
    "postgresql": "CREATE FUNCTION tr() RETURNS trigger AS $$\nBEGIN\n"
    "  INSERT INTO seen VALUES (NEW.x);\n  INSERT INTO seen VALUES (NEW.x + 1);\n"
    "  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n",
}


@pytest.mark.parametrize(
    "db_url",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_a_body_with_semicolons_is_one_statement(
    ordo_cli: Runner, tmp_path: Path, db_url: URL
) -> None:
    manifest = (
        "name: s\nsteps:\n  - name: tables\n    file: tables.sql\n    split_statements: true\n"
        "  - name: body\n    file: body.sql\n"
    )
    tables = "CREATE TABLE t (x INTEGER);\nCREATE TABLE seen (x INTEGER);\n"
    body = BODIES[backend_of(db_url)]
    root = project(tmp_path, db_url, manifest, **{"tables.sql": tables, "body.sql": body})
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.mariadb
def test_mysql_delimiter_lines_are_never_sent(
    ordo_cli: Runner, tmp_path: Path, mariadb_url: URL
) -> None:
    manifest = (
        "name: s\nsteps:\n  - name: proc\n    file: proc.sql\n    split_statements: true\n"
        "  - name: call\n    sql: CALL fill()\n"
    )
    proc = (
        "CREATE TABLE t (x INTEGER);\n"
        "DELIMITER //\n"
        "CREATE PROCEDURE fill() BEGIN\n  INSERT INTO t VALUES (1);\n  INSERT INTO t VALUES (2);\n"
        "END //\n"
        "DELIMITER ;\n"
    )
    root = project(tmp_path, mariadb_url, manifest, **{"proc.sql": proc})
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert read(mariadb_url, "SELECT x FROM t ORDER BY x") == [(1,), (2,)]
