"""Which colons of a statement are bind parameters, per backend, without a database.

``bound_text`` must bind exactly the ``:name`` that are SQL code and give the database every
other character as written (the compiled text equals the input).
"""

from __future__ import annotations

import pytest

from ordo.db.dialects import dialect_for
from ordo.db.parameters import bound_text
from ordo.db.statements import code_colons, split_statements

BACKENDS = ["postgresql", "mysql", "sqlite", "duckdb", "oracle", "mssql"]


def binds(sql: str, backend: str) -> list[str]:
    """The parameter names ``bound_text`` binds, checking the text round-trips."""
    clause = bound_text(sql, dialect_for(backend).script_syntax)
    compiled = clause.compile()
    assert str(compiled) == sql
    return list(compiled.params)


@pytest.mark.parametrize("backend", BACKENDS)
def test_colons_outside_code_are_never_parameters(backend: str) -> None:
    assert binds("SELECT 'a :b', 'x:y:z', '{\"k\":1}' -- :c\n/* :d */", backend) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_parameter_in_code_binds(backend: str) -> None:
    assert binds("SELECT :x, ':y', :z FROM t WHERE a = :x", backend) == ["x", "z"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_colon_after_a_name_or_a_colon_is_not_a_parameter(backend: str) -> None:
    assert binds("SELECT a:b, c::d, $:e", backend) == []


def test_casts_after_a_parameter_keep_it_a_parameter() -> None:
    assert binds("SELECT :n::integer, '1'::text", "postgresql") == ["n"]


def test_quoted_names_per_backend() -> None:
    assert binds('SELECT 1 AS "a :b"', "postgresql") == []
    assert binds("SELECT 1 AS `a :b`", "mysql") == []
    assert binds("SELECT 1 AS [a :b]", "sqlite") == []
    assert binds("SELECT 1 AS [a :b]", "mssql") == []


def test_dollar_quotes_and_escape_strings_on_postgresql() -> None:
    assert binds("SELECT $$ :x $$, $t$ it's :y $t$, E'\\' :z', :w", "postgresql") == ["w"]
    assert binds("SELECT /* /* :x */ :y */ :z", "postgresql") == ["z"]


def test_mysql_strings_and_comments() -> None:
    assert binds("SELECT 'it\\'s :x', \"a\\\" :y\" # :z\n, :w", "mysql") == ["w"]


def test_an_escaped_colon_in_code_stays_an_escape() -> None:
    # ``text()``'s own escape for a literal ``:name`` in code is kept (the database gets ':x').
    clause = bound_text("SELECT \\:x, :y", dialect_for("postgresql").script_syntax)
    compiled = clause.compile()
    assert (str(compiled), list(compiled.params)) == ("SELECT :x, :y", ["y"])


def test_a_backslash_before_a_colon_in_a_literal_reaches_the_database() -> None:
    clause = bound_text("SELECT 'C:\\:x'", dialect_for("sqlite").script_syntax)
    assert str(clause.compile()) == "SELECT 'C:\\:x'"


def test_code_colons_skip_literals() -> None:
    sql = "SELECT ':a', :b -- :c"
    assert code_colons(sql, "postgresql") == [sql.index(":b")]


@pytest.mark.parametrize("backend", ["postgresql", "mysql", "duckdb"])
def test_a_parameter_named_like_a_keyword_opens_no_block(backend: str) -> None:
    statements = split_statements("SELECT :case FROM t; SELECT :begin; SELECT 2", backend)
    assert [s.sql for s in statements] == ["SELECT :case FROM t", "SELECT :begin", "SELECT 2"]
