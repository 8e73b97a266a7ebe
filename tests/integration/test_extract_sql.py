"""``sql`` sources: a query on another named connection, streamed into a table."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, create_engine, text

import ordo
from tests.support.project import make_project

SOURCE_ROWS = 2_500  # more than one batch of 1000


def fill_source(url: URL) -> None:
    as_given = str if url.get_backend_name() == "sqlite" else Decimal  # sqlite3 binds no Decimal
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE src (id INTEGER, code VARCHAR(10), amount NUMERIC(12,3))"))
        conn.execute(
            text("INSERT INTO src VALUES (:id, :code, :amount)"),
            [
                {"id": i, "code": f"{i:06d}", "amount": as_given(Decimal(i) / 8)}
                for i in range(1, SOURCE_ROWS + 1)
            ],
        )
    engine.dispose()


def copy(tmp_path: Path, source: URL, target: URL, *, reader: str = "auto") -> ordo.RunResult:
    def env_url(url: URL) -> str:
        return url.render_as_string(hide_password=False)

    env = (
        f"DATABASE_URL={env_url(target)}\n"
        f"DEVELOPMENT_GLOBAL_WAREHOUSE_CONNECTION_STRING={env_url(source)}\n"
    )
    manifest = f"""\
        steps:
          - name: copy
            type: load
            source:
              type: sql
              connection: warehouse
              query: SELECT id, code, amount FROM src ORDER BY id
              batch_rows: 1000
              reader: {reader}
            target: {{type: table, table: copied}}
        """
    root = make_project(tmp_path / "p", manifest, env=env)
    return ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))


def copied(url: URL) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM copied ORDER BY id")).all()]
    engine.dispose()
    return rows


def check(result: ordo.RunResult, target: URL) -> None:
    assert result.status == "success", result.step("copy").error
    assert result.step("copy").rows == SOURCE_ROWS
    rows = copied(target)
    assert len(rows) == SOURCE_ROWS
    assert rows[0][:2] == (1, "000001")
    assert Decimal(str(rows[0][2])) == Decimal("0.125")
    assert Decimal(str(rows[-1][2])) == Decimal(SOURCE_ROWS) / 8


@pytest.mark.postgres
@pytest.mark.parametrize("reader", ["auto", "driver"])
def test_postgresql_to_duckdb(
    tmp_path: Path, postgres_url: URL, duckdb_url: URL, reader: str
) -> None:
    fill_source(postgres_url)
    check(copy(tmp_path, postgres_url, duckdb_url, reader=reader), duckdb_url)
    engine = create_engine(duckdb_url)
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT typeof(id), typeof(amount) FROM copied LIMIT 1")).one()
    engine.dispose()
    assert kinds[1] == "DECIMAL(12,3)"  # numeric(12,3) stays exact, with its scale


@pytest.mark.mariadb
def test_mariadb_to_sqlite(tmp_path: Path, mariadb_url: URL, sqlite_url: URL) -> None:
    fill_source(mariadb_url)
    check(copy(tmp_path, mariadb_url, sqlite_url), sqlite_url)


@pytest.mark.postgres
def test_duckdb_to_postgresql(tmp_path: Path, duckdb_url: URL, postgres_url: URL) -> None:
    fill_source(duckdb_url)
    check(copy(tmp_path, duckdb_url, postgres_url), postgres_url)


def test_sqlite_to_duckdb(tmp_path: Path, sqlite_url: URL, duckdb_url: URL) -> None:
    fill_source(sqlite_url)
    check(copy(tmp_path, sqlite_url, duckdb_url), duckdb_url)


def test_the_steps_own_connection_by_default(tmp_path: Path, sqlite_url: URL) -> None:
    fill_source(sqlite_url)
    manifest = """\
        steps:
          - name: copy
            type: load
            source: {type: sql, query: 'SELECT id, code FROM src WHERE id <= 3'}
            target: {type: table, table: copied}
        """
    env = f"DATABASE_URL={sqlite_url.render_as_string(hide_password=False)}\n"
    root = make_project(tmp_path / "p", manifest, env=env)
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    assert result.status == "success", result.step("copy").error
    assert copied(sqlite_url) == [(1, "000001"), (2, "000002"), (3, "000003")]


@pytest.mark.postgres
def test_a_failing_query_is_one_line_with_its_source(
    tmp_path: Path, postgres_url: URL, duckdb_url: URL
) -> None:
    result = copy(tmp_path, postgres_url, duckdb_url)  # no table src there
    assert result.status == "failed"
    error = result.step("copy").error or ""
    assert error == (
        'sql query on warehouse failed: relation "src" does not exist '
        "(hint: run the query in psql to see the whole error)"
    )


def test_an_unknown_connection_is_a_plan_problem(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: copy
            type: load
            source: {type: sql, connection: nowhere, query: SELECT 1}
            target: {type: table, table: t}
        """
    root = make_project(tmp_path / "p", manifest)
    with pytest.raises(ordo.ManifestInvalid, match=r"source\.connection: unknown connection"):
        ordo.plan(project=root, environ={})
