"""What ``ordo run`` says about steps outside a transaction and DDL in transaction groups.

Issue 9, item 10: ``transaction: false`` runs a step in autocommit; it cannot join a group and
the plan says it has no ledger row. Item 2: on MySQL/MariaDB (and Oracle) DDL commits on its
own, so a group holding DDL is refused before anything runs unless the manifest accepts it
with ``allow_implicit_commit``; then a failure says what was committed, never "rolled back"
for it. On SQLite and PostgreSQL DDL in groups stays allowed: it rolls back there.

Plans are made without a connection, so the refusals are checked against a MariaDB URL
without needing the server; the runs use the real servers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, inspect, text

from tests.support.cli import Runner
from tests.support.project import database_env, make_project

MARIADB_ENV = "DATABASE_URL=mysql+pymysql://root@127.0.0.1:3306/test\n"

ISSUE_EXAMPLE = """\
name: ddl
steps:
  - name: create
    sql: CREATE TABLE made (x INT)
    transaction_group: 1
  - name: insert
    sql: INSERT INTO made VALUES (1)
    transaction_group: 1
  - name: fail
    sql: INSERT INTO missing VALUES (1)
    transaction_group: 1
"""


def test_ddl_in_a_group_on_mariadb_is_refused_with_line_and_hint(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", ISSUE_EXAMPLE, env=MARIADB_ENV)
    before = (root / "queue" / "manifest.yaml").read_bytes()
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "manifest.yaml:5: step 'create': transaction group 1 holds DDL" in done.stderr
    assert "commits on its own on mysql: CREATE TABLE made (x INT)" in done.stderr
    assert "allow_implicit_commit: true" in done.stderr  # the hint names the opt-in
    assert "step 'insert'" not in done.stderr  # DML in the group is not the problem
    assert (root / "queue" / "manifest.yaml").read_bytes() == before


def test_templated_ddl_is_found_after_rendering(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: ddl
        steps:
          - name: make
            file: make.sql
            params: {verb: DROP}
            transaction_group: g
          - name: fill
            sql: SELECT 1
            transaction_group: g
        """,
        sql={"make.sql": "-- drops the old table\n{{ verb }} TABLE old\n"},
        env=MARIADB_ENV,
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "DROP TABLE old (line 2 of make.sql)" in done.stderr
    assert "manifest.yaml:6: step 'make'" in done.stderr


@pytest.mark.parametrize(
    ("where", "manifest"),
    [
        (
            "pipeline",
            ISSUE_EXAMPLE.replace("name: ddl\n", "name: ddl\nallow_implicit_commit: true\n"),
        ),
        (
            "group",
            ISSUE_EXAMPLE.replace(
                "    transaction_group: 1\n",
                "    transaction_group: 1\n    allow_implicit_commit: true\n",
                1,
            ),
        ),
    ],
)
def test_the_opt_in_accepts_ddl_in_a_group(
    ordo_cli: Runner, tmp_path: Path, where: str, manifest: str
) -> None:
    root = make_project(tmp_path / "p", manifest, env=MARIADB_ENV)
    done = ordo_cli("run", "--dry-run", cwd=root)
    assert done.returncode == 0, where + done.stdout + done.stderr
    assert "Dry Run Complete" in done.stdout


def test_one_ddl_step_outside_a_group_is_fine_on_mariadb(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        ISSUE_EXAMPLE.replace("    transaction_group: 1\n", "", 1),
        env=MARIADB_ENV,
    )
    done = ordo_cli("run", "--dry-run", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_opt_in_outside_a_group_is_refused(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: lone
        steps:
          - name: make
            sql: CREATE TABLE t (x INT)
            allow_implicit_commit: true
        """,
        env=MARIADB_ENV,
    )
    done = ordo_cli("run", "--dry-run", cwd=root)
    assert done.returncode == 2
    assert (
        "manifest.yaml:5: step 'make': allow_implicit_commit is for a step in a transaction group"
        in done.stderr
    )


@pytest.mark.parametrize("env", ["sqlite", "postgresql"])
def test_ddl_in_groups_stays_allowed_where_it_rolls_back(
    ordo_cli: Runner, tmp_path: Path, env: str
) -> None:
    url = {
        "sqlite": "sqlite:///data/test.db",
        "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    }[env]
    root = make_project(tmp_path / "p", ISSUE_EXAMPLE, env=f"DATABASE_URL={url}\n")
    done = ordo_cli("run", "--dry-run", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


def test_transaction_false_cannot_join_a_group(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: outside
        steps:
          - name: vacuum
            sql: VACUUM
            transaction: false
            transaction_group: 1
          - name: after
            sql: SELECT 1
            transaction_group: 1
        """,
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "manifest.yaml:6: step 'vacuum': a step with 'transaction: false' cannot be in a "
        "transaction group" in done.stderr
    )
    assert "hint: it runs in autocommit, outside any transaction" in done.stderr


def test_sqlite_vacuum_runs_outside_a_transaction(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: outside
        steps:
          - name: make
            sql: CREATE TABLE t AS SELECT 1 AS x
          - name: vacuum
            sql: VACUUM
            transaction: false
        """,
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[2] SQL: vacuum - No transaction: autocommit, no ledger row" in done.stdout
    assert "✓ vacuum in " in done.stdout


def test_postgresql_vacuum_and_index_concurrently_through_ordo_run(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: outside
        steps:
          - name: make
            sql: CREATE TABLE t AS SELECT generate_series(1, 50) AS x
          - name: index
            sql: CREATE INDEX CONCURRENTLY t_x ON t (x)
            transaction: false
          - name: vacuum
            sql: VACUUM ANALYZE t
            transaction: false
        """,
        env=database_env(postgres_url),
    )
    dry = ordo_cli("run", "--dry-run", cwd=root)
    assert (
        "[2] SQL: index - No transaction: autocommit, no ledger row (may run again after a crash)"
        in dry.stdout
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✅ 3 tasks completed" in done.stdout
    engine = create_engine(postgres_url)
    try:
        assert [i["name"] for i in inspect(engine).get_indexes("t")] == ["t_x"]
        with engine.connect() as conn:
            vacuumed = conn.execute(
                text(
                    "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                    "WHERE relname = 't' AND schemaname = current_schema()"
                )
            ).scalar()
        assert vacuumed is True
    finally:
        engine.dispose()


def test_mariadb_transaction_false_step_runs(
    ordo_cli: Runner, tmp_path: Path, mariadb_url: URL
) -> None:
    root = make_project(
        tmp_path / "p",
        """\
        name: outside
        steps:
          - name: make
            sql: CREATE TABLE t (x INT)
          - name: optimize
            sql: OPTIMIZE TABLE t
            transaction: false
        """,
        env=database_env(mariadb_url),
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ optimize in " in done.stdout


def test_mariadb_failed_group_says_what_was_committed(
    ordo_cli: Runner, tmp_path: Path, mariadb_url: URL
) -> None:
    """The issue's run: before, it printed 'rolled back group: create, insert, fail' while the
    table stayed and the next run failed on it."""
    manifest = ISSUE_EXAMPLE.replace("name: ddl\n", "name: ddl\nallow_implicit_commit: true\n")
    root = make_project(tmp_path / "p", manifest, env=database_env(mariadb_url))
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rolled back group: create" not in done.stdout
    assert "committed before the failure (DDL commits on its own), done: create" in done.stdout
    assert "↺ rolled back: insert, fail" in done.stdout
    assert "1 done, 1 failed, 1 rolled back" in done.stdout  # create, fail, insert
    again = ordo_cli("run", "-y", cwd=root)
    assert "already exists" not in again.stdout  # create is done: not run again
    assert "[1] SQL: insert (Group 1)" in again.stdout
