"""``:name`` in a query is a bound parameter only where it is SQL code, on every backend.

A colon inside a string literal, a quoted name, a comment, a dollar-quoted body or a ``::``
cast is part of the statement, sent as written; ``DatabaseManager`` (and so ``ordo db query``)
once read ``SELECT 'a :b'`` as a parameter ``b`` and refused it for want of a value.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.api.database_manager import DatabaseManager
from tests.support.managers import manager_for, with_password


@pytest.fixture
def db(tmp_path: Path, db_url: URL) -> Iterator[DatabaseManager]:
    with manager_for(tmp_path, with_password(db_url)) as manager:
        yield manager


def quoted(db: DatabaseManager, name: str) -> str:
    """``name`` as the backend quotes a column name."""
    return f"`{name}`" if db.engine.dialect.name == "mysql" else f'"{name}"'


def test_a_colon_word_in_a_string_literal_is_text(db: DatabaseManager) -> None:
    assert db.execute_query("SELECT 'a :b' AS v") == [{"v": "a :b"}]
    assert db.execute_query("SELECT 'x:y:z' AS v, ':1' AS w") == [{"v": "x:y:z", "w": ":1"}]


def test_a_colon_word_in_a_comment_is_text(db: DatabaseManager) -> None:
    assert db.execute_query("SELECT 1 AS v -- :c") == [{"v": 1}]
    assert db.execute_query("/* :d */ SELECT 2 AS v /* :e */") == [{"v": 2}]


def test_a_colon_word_in_a_quoted_name_is_text(db: DatabaseManager) -> None:
    assert db.execute_query(f"SELECT 1 AS {quoted(db, 'a :b')}") == [{"a :b": 1}]


def test_a_real_parameter_binds_beside_literal_colons(db: DatabaseManager) -> None:
    rows = db.execute_query("SELECT :x AS v, 'y :z' AS w -- :not_me", {"x": "bound :value"})
    assert rows == [{"v": "bound :value", "w": "y :z"}]


def test_a_missing_value_is_still_an_error(db: DatabaseManager) -> None:
    with pytest.raises(Exception, match="x"):
        db.execute_query("SELECT :x AS v, ':y' AS w")


def test_a_backslash_before_a_colon_in_a_literal_is_kept(db: DatabaseManager) -> None:
    if db.engine.dialect.name == "mysql":
        # MySQL's own string rules drop the backslash of an unknown escape.
        assert db.execute_query("SELECT 'it\\'s a\\:b' AS v") == [{"v": "it's a:b"}]
    else:
        assert db.execute_query("SELECT 'a\\:b' AS v") == [{"v": "a\\:b"}]


def test_colons_in_a_transaction_are_text_too(db: DatabaseManager) -> None:
    results = db.execute_transaction([("SELECT 'a :b' AS v, :n AS n", {"n": 3})])
    assert results[0]["rows"] == [{"v": "a :b", "n": 3}]


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cast_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseManager]:
    """A manager on a backend with ``::`` casts and ``$$`` strings (DuckDB, PostgreSQL)."""
    fixture = {"postgresql": "postgres_url"}.get(request.param, f"{request.param}_url")
    url: URL = request.getfixturevalue(fixture)
    with manager_for(tmp_path, with_password(url)) as manager:
        yield manager


def test_casts_and_dollar_quotes_are_not_parameters(cast_db: DatabaseManager) -> None:
    assert cast_db.execute_query("SELECT :n::integer + 1 AS v", {"n": "41"}) == [{"v": 42}]
    assert cast_db.execute_query("SELECT '7'::integer AS v") == [{"v": 7}]
    assert cast_db.execute_query("SELECT $$ :x $$ AS v") == [{"v": " :x "}]


@pytest.mark.postgres
def test_postgresql_jsonb_and_tagged_dollar_quotes(tmp_path: Path, postgres_url: URL) -> None:
    with manager_for(tmp_path, with_password(postgres_url)) as db:
        assert db.execute_query("""SELECT '{"k":1}'::jsonb AS v""") == [{"v": {"k": 1}}]
        assert db.execute_query("SELECT $tag$ it's :x $tag$ AS v") == [{"v": " it's :x "}]
        assert db.execute_query("SELECT (ARRAY[1,2,3])[2:3] AS v") == [{"v": [2, 3]}]
