"""Which PostgreSQL statements refuse a transaction, and what that means for a file (issue 10)."""

from __future__ import annotations

import pytest

from ordo.db.statements import split_statements
from ordo.migrations.transactions import is_non_transactional, transaction_plan


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX CONCURRENTLY t_id ON t (id)",
        "create unique index\n  concurrently t_id ON t (id)",
        "DROP INDEX CONCURRENTLY t_id",
        "DROP UNIQUE INDEX CONCURRENTLY t_id",
        "VACUUM",
        "vacuum analyze t",
        "REINDEX SCHEMA public",
        "REINDEX VERBOSE DATABASE test",
        "REINDEX SYSTEM test",
        "REINDEX TABLE CONCURRENTLY t",
        "CREATE DATABASE other",
        "DROP DATABASE other",
        "CREATE TABLESPACE ts LOCATION '/x'",
        "DROP SUBSCRIPTION s",
        "ALTER SYSTEM SET work_mem = '8MB'",
        "DISCARD ALL",
    ],
)
def test_statements_that_refuse_a_transaction(sql: str) -> None:
    assert is_non_transactional(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX t_id ON t (id)",
        "CREATE TABLE vacuum_log (id INT)",
        "REINDEX TABLE t",
        "DISCARD PLANS",
        "ALTER TABLE t ADD COLUMN concurrently INT",
        "INSERT INTO t VALUES ('VACUUM')",
    ],
)
def test_ordinary_statements_run_in_a_transaction(sql: str) -> None:
    assert not is_non_transactional(sql)


def test_alter_type_add_value_refuses_a_transaction_only_before_postgresql_12() -> None:
    sql = "ALTER TYPE mood ADD VALUE 'happy'"
    assert is_non_transactional(sql, (11, 5))
    assert not is_non_transactional(sql, (12, 0))
    assert not is_non_transactional(sql, None)
    assert is_non_transactional("alter type \"my type\"\n add value if not exists 'x'", (10,))


def test_a_file_only_of_them_runs_outside_a_mixed_one_names_the_first() -> None:
    only = split_statements("VACUUM;\nCREATE INDEX CONCURRENTLY i ON t (id);\n", "postgresql")
    assert transaction_plan(only, (16,)).autocommit
    assert transaction_plan(only, (16,)).mixed_at is None
    mixed = split_statements(
        "CREATE TABLE t (id INT);\n\nCREATE INDEX CONCURRENTLY i ON t (id);\n", "postgresql"
    )
    plan = transaction_plan(mixed, (16,))
    assert plan.mixed_at is not None
    assert (plan.mixed_at.number, plan.mixed_at.line) == (2, 3)
    plain = split_statements("CREATE TABLE t (id INT);\n", "postgresql")
    assert not transaction_plan(plain, (16,)).autocommit
    assert not transaction_plan([], (16,)).autocommit
