"""``ordo db query`` sends colons in literals, names and comments as written, on every backend.

It once read ``SELECT 'a :b'`` as a bind parameter ``b`` and failed with "A value is
required for bind parameter 'b'"; ``'{"k":1}'::jsonb`` failed the same way on ``1``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import URL

from tests.support.cli import Runner

ENV = {"ORDO_ENV": "development"}


def project(root: Path, url: URL) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "config" / ".env").write_text(
        f"DEVELOPMENT_GLOBAL_T_CONNECTION_STRING={url.render_as_string(hide_password=False)}\n",
        encoding="utf-8",
    )
    return root


def query_json(ordo_cli: Runner, root: Path, sql: str) -> object:
    done = ordo_cli("db", "query", "t", sql, "-o", "json", cwd=root, env=ENV)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_colons_in_literals_comments_and_names_are_text(
    ordo_cli: Runner, tmp_path: Path, db_url: URL
) -> None:
    root = project(tmp_path / "p", db_url)
    name = "`a :n`" if db_url.get_backend_name() == "mysql" else '"a :n"'
    sql = f"SELECT 'a :b' AS v, 1 AS {name} -- :c"
    assert query_json(ordo_cli, root, sql) == [{"v": "a :b", "a :n": 1}]


@pytest.mark.postgres
def test_jsonb_casts_and_dollar_quotes_on_postgresql(
    ordo_cli: Runner, tmp_path: Path, postgres_url: URL
) -> None:
    root = project(tmp_path / "p", postgres_url)
    sql = """SELECT '{"k":1}'::jsonb AS j, $$ :x $$ AS d"""
    assert query_json(ordo_cli, root, sql) == [{"j": {"k": 1}, "d": " :x "}]


def test_a_parameter_without_a_value_is_one_line(ordo_cli: Runner, tmp_path: Path) -> None:
    root = project(tmp_path / "p", URL.create("sqlite", database=str(tmp_path / "t.db")))
    done = ordo_cli("db", "query", "t", "SELECT :x AS v, ':y' AS w", cwd=root, env=ENV)
    assert done.returncode == 1
    assert "'x'" in done.stderr
    assert "'y'" not in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
