"""Which databases commit on DDL, and which statements do it (issue 9, item 2).

The dialect declares the fact; planning refuses DDL in a transaction group where it holds.
"""

from __future__ import annotations

import pytest

from ordo.db.dialects import dialect_for


@pytest.mark.parametrize(
    ("backend", "commits"),
    [
        ("mysql", True),
        ("mariadb", True),
        ("oracle", True),
        ("postgresql", False),
        ("sqlite", False),
        ("duckdb", False),
        ("mssql", False),
    ],
)
def test_dialects_declare_whether_ddl_commits_implicitly(backend: str, commits: bool) -> None:
    dialect = dialect_for(backend)
    assert dialect.ddl_commits_implicitly is commits
    assert dialect.commits_implicitly("CREATE TABLE t (x INT)") is commits
    assert dialect.commits_implicitly("create table t (x int)") is commits


@pytest.mark.parametrize(
    "statement",
    ["ALTER TABLE t ADD y INT", "DROP TABLE t", "TRUNCATE TABLE t", "RENAME TABLE a TO b"],
)
def test_ddl_statements_commit_on_mariadb(statement: str) -> None:
    assert dialect_for("mariadb").commits_implicitly(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO t VALUES (1)",
        "UPDATE t SET x = 1",
        "SELECT 1",
        "CREATE TEMPORARY TABLE t (x INT)",  # MySQL's exception: no implicit commit
        "DROP TEMPORARY TABLE t",
        "WITH a AS (SELECT 1) SELECT * FROM a",
    ],
)
def test_other_statements_do_not_commit_on_mariadb(statement: str) -> None:
    assert not dialect_for("mariadb").commits_implicitly(statement)


def test_oracle_comment_commits() -> None:
    assert dialect_for("oracle").commits_implicitly("COMMENT ON TABLE t IS 'x'")
    assert not dialect_for("oracle").commits_implicitly("BEGIN NULL; END;")
