"""How the plan counts the statements of a sql step, per dialect, without touching a database."""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from tests.support.project import make_project

MYSQL = "DATABASE_URL=mysql+pymysql://root@127.0.0.1:1/none\n"  # never connected at plan time
POSTGRES = "DATABASE_URL=postgresql+psycopg://u@127.0.0.1:1/none\n"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    assert caught.value.exit_code == 2
    return [str(p) for p in caught.value.problems]


def test_a_split_step_holds_its_statements_with_file_lines(tmp_path: Path) -> None:
    manifest = "steps:\n  - name: a\n    file: a.sql\n    split_statements: true\n"
    sql = "-- one;\nCREATE TABLE t (x INTEGER);\n\nINSERT INTO t VALUES (1);\n"
    root = make_project(tmp_path, manifest, sql={"a.sql": sql})
    [step] = ordo.plan(project=root, environ={}).steps
    statements = step.statements  # type: ignore[attr-defined]
    assert [(s.line, s.sql) for s in statements] == [
        (2, "CREATE TABLE t (x INTEGER)"),
        (4, "INSERT INTO t VALUES (1)"),
    ]
    assert step.summary == "- 2 statements"


def test_one_statement_is_sent_whole(tmp_path: Path) -> None:
    root = make_project(tmp_path, "steps:\n  - name: a\n    sql: 'SELECT 1; -- done;'\n")
    [step] = ordo.plan(project=root, environ={}).steps
    assert step.statements == ()  # type: ignore[attr-defined]
    assert step.statement == "SELECT 1; -- done;"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("env", "body"),
    [
        (MYSQL, "CREATE PROCEDURE p() BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"),
        (MYSQL, "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\n"),
        (POSTGRES, "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n"),
        (POSTGRES, "DO $body$ BEGIN PERFORM 1; PERFORM 2; END $body$;\n"),
    ],
)
def test_bodies_with_semicolons_are_one_statement(tmp_path: Path, env: str, body: str) -> None:
    manifest = "steps:\n  - name: a\n    file: a.sql\n"
    root = make_project(tmp_path, manifest, sql={"a.sql": body}, env=env)
    assert len(ordo.plan(project=root, environ={}).steps) == 1


def test_a_plsql_block_is_never_split(tmp_path: Path) -> None:
    manifest = (
        "steps:\n  - name: block\n    type: plsql\n    sql: 'SELECT 1; SELECT 2'\n"
        "  - name: asked\n    type: plsql\n    sql: SELECT 1\n    split_statements: true\n"
    )
    [problem] = problems_of(make_project(tmp_path, manifest))
    assert "manifest.yaml:8:" in problem
    assert "step 'asked'" in problem
    assert "split_statements is for sql steps" in problem


def test_a_rollback_may_hold_several_statements(tmp_path: Path) -> None:
    manifest = (
        "steps:\n  - name: a\n    sql: SELECT 1\n"
        "    rollback: {sql: 'DELETE FROM t; DELETE FROM u'}\n"
    )
    plan = ordo.plan(project=make_project(tmp_path, manifest), environ={})
    rollback = plan.rollbacks["a"]
    assert [s.sql for s in rollback.statements] == ["DELETE FROM t", "DELETE FROM u"]  # type: ignore[attr-defined]


def test_every_step_with_two_statements_is_reported(tmp_path: Path) -> None:
    manifest = "steps:\n  - name: a\n    file: a.sql\n  - name: b\n    file: b.sql\n"
    sql = {"a.sql": "SELECT 1;\nSELECT 2;\n", "b.sql": "SELECT 1;\n\nSELECT 2;SELECT 3;\n"}
    problems = problems_of(make_project(tmp_path, manifest, sql=sql))
    assert len(problems) == 2
    assert "a.sql:2: step 'a': 2 statements in one sql step" in problems[0]
    assert "b.sql:3: step 'b': 3 statements in one sql step" in problems[1]
