"""PostgreSQL migrations that refuse a transaction or change the role (issue 10, items 1, 9).

A folder shared with Flyway applies unchanged: a file made only of statements that refuse a
transaction runs in autocommit without any marker, a file mixing them is refused until mixing
is allowed, and a ``SET ROLE`` in a migration does not keep its history row from being written.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, Engine, create_engine

import ordo
from ordo.migrations import MigrationMixed, Migrator
from tests.support.cli import run_in_process
from tests.support.db import unique_name
from tests.support.project import make_project


@pytest.fixture
def engine(postgres_url: URL) -> Iterator[Engine]:
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql).all()]


def indexes(engine: Engine) -> list[str]:
    sql = (
        "SELECT indexname FROM pg_indexes"
        " WHERE schemaname = current_schema() AND tablename = 't' ORDER BY 1"
    )
    return [r[0] for r in rows(engine, sql)]


TABLE = {"V1__table.sql": "CREATE TABLE t (id INT);\n"}
CONCURRENTLY = "CREATE INDEX CONCURRENTLY t_id ON t (id);\n"
MIXED = "INSERT INTO t VALUES (1);\n\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n"


def test_a_file_only_of_concurrent_index_statements_applies(engine: Engine, tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {**TABLE, "V2__index.sql": CONCURRENTLY})
    result = Migrator(engine, folder).migrate()
    assert [a.script for a in result.applied] == ["V1__table.sql", "V2__index.sql"]
    assert indexes(engine) == ["t_id"]
    assert rows(engine, "SELECT version, success FROM schema_version ORDER BY 1") == [
        ("1", True),
        ("2", True),
    ]


def test_a_mixed_file_is_refused_before_anything_runs_then_allowed(
    engine: Engine, tmp_path: Path
) -> None:
    folder = write(tmp_path / "m", {**TABLE, "V2__mixed.sql": MIXED})
    with pytest.raises(MigrationMixed) as caught:
        Migrator(engine, folder).migrate()
    error = caught.value
    assert error.file == folder / "V2__mixed.sql"
    assert error.line == 3
    assert "\n" not in error.message
    assert "V2 (V2__mixed.sql)" in error.message
    assert "line 3: CREATE INDEX CONCURRENTLY t_id ON t (id)" in error.message
    assert "MIGRATIONS_MIXED=true" in str(error.hint)
    assert rows(engine, "SELECT COUNT(*) FROM schema_version") == [(0,)]  # not even V1 ran

    result = Migrator(engine, folder, mixed=True).migrate()
    assert [a.script for a in result.applied] == ["V1__table.sql", "V2__mixed.sql"]
    assert rows(engine, "SELECT id FROM t") == [(1,)]
    assert indexes(engine) == ["t_id"]


def test_mixing_is_allowed_by_the_connection_setting_or_the_step_option(
    postgres_url: URL, tmp_path: Path
) -> None:
    rendered = postgres_url.render_as_string(hide_password=False)
    manifest = """\
        steps:
          - name: schema
            type: migrate
            connection: wh
        """
    env = f"DEVELOPMENT_GLOBAL_WH_CONNECTION_STRING={rendered}\n"
    root = make_project(tmp_path / "p", textwrap.dedent(manifest), env=env)
    write(root / "core" / "migrations" / "wh", {**TABLE, "V2__mixed.sql": MIXED})
    options = ordo.RunOptions(notify=False)

    refused = ordo.run(project=root, environ={}, options=options)
    assert refused.status == "failed"
    assert "mixes statements" in str(refused.error)
    shown = run_in_process("migrate", "wh", cwd=root)
    assert shown.returncode == 1
    assert "Traceback" not in shown.stderr
    error = [line for line in shown.stderr.splitlines() if "mixes statements" in line]
    assert len(error) == 1, shown.stderr
    assert "line 3: CREATE INDEX CONCURRENTLY" in error[0]
    assert "DEVELOPMENT_GLOBAL_WH_MIGRATIONS_MIXED=true" in shown.stderr

    allowed = ordo.run(
        project=root, environ={"DEVELOPMENT_GLOBAL_WH_MIGRATIONS_MIXED": "true"}, options=options
    )
    assert allowed.status == "success", allowed.error
    assert allowed.step("schema").rows == 2

    write(root / "core" / "migrations" / "wh", {"V3__more.sql": MIXED.replace("t_id", "t_id2")})
    (root / "queue" / "manifest.yaml").write_text(textwrap.dedent(manifest) + "    mixed: true\n")
    by_step = ordo.run(project=root, environ={}, options=options)
    assert by_step.status == "success", by_step.error
    assert by_step.step("schema").rows == 1


@pytest.fixture
def weak_role(engine: Engine) -> Iterator[str]:
    """A role that may create tables in the test's schema but not touch the history table."""
    role = unique_name("ordo_role")
    with engine.begin() as conn:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        conn.exec_driver_sql(f'CREATE ROLE "{role}"')
        conn.exec_driver_sql(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"')
    yield role
    with engine.begin() as conn:
        conn.exec_driver_sql("RESET ROLE")  # even if a pooled connection kept the migration's
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')


@pytest.mark.parametrize("marker", ["", "-- ordo:no-transaction\n"], ids=["transaction", "outside"])
def test_a_set_role_migration_applies_and_its_history_is_written(
    engine: Engine, weak_role: str, tmp_path: Path, marker: str
) -> None:
    folder = write(tmp_path / "m", {"V0__history.sql": "SELECT 1;\n"})
    Migrator(engine, folder).migrate()  # the history table exists, owned by the test's user
    sql = f'{marker}SET ROLE "{weak_role}";\nCREATE TABLE owned (id INT);\n'
    write(folder, {"V1__as_role.sql": sql, "V2__after.sql": "INSERT INTO owned VALUES (1);\n"})
    result = Migrator(engine, folder).migrate()
    assert [a.script for a in result.applied] == ["V1__as_role.sql", "V2__after.sql"]
    assert rows(engine, "SELECT version, success FROM schema_version ORDER BY 1") == [
        ("0", True),
        ("1", True),
        ("2", True),
    ]
    owner = "SELECT tableowner FROM pg_tables WHERE tablename = 'owned'"
    assert rows(engine, owner) == [(weak_role,)]
    assert rows(engine, "SELECT current_user = session_user") == [(True,)]  # pool is clean
