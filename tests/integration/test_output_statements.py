"""Streamed output files meet the statement rules: the last statement of a ``split_statements``
step is the one written, and a statement with no result set writes no file (issue 9, items 8,
11 and 16), on every database.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL

from ordo.events import RunStatus
from tests.support.runs import make, run

SPLIT = """\
name: split
steps:
  - name: report
    split_statements: true
    sql: |
      CREATE TABLE t (x INTEGER);
      INSERT INTO t VALUES (1), (2), (3);
      SELECT x FROM t ORDER BY x;
    output_file: results/t.csv
"""

DDL = """\
name: ddl
steps:
  - name: create
    sql: CREATE TABLE u (x INTEGER)
    output_file: results/u.json
"""


def test_the_last_of_split_statements_is_streamed_to_the_file(tmp_path: Path, db_url: URL) -> None:
    root = make(tmp_path, db_url, SPLIT)
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.step("report").error
    assert (root / "results" / "t.csv").read_text(encoding="utf-8") == "x\n1\n2\n3\n"
    assert result.step("report").rows == 3  # the rows written, not the INSERT's count
    assert list(root.rglob("*ordo-tmp*")) == []


def test_a_ddl_step_with_output_file_succeeds_and_writes_nothing(
    tmp_path: Path, db_url: URL
) -> None:
    root = make(tmp_path, db_url, DDL)
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.step("create").error
    assert not (root / "results" / "u.json").exists()
    assert list(root.rglob("*ordo-tmp*")) == []


AUTOCOMMIT = """\
name: autocommit
steps:
  - name: make
    sql: CREATE TABLE v (x INTEGER)
  - name: report
    transaction: false
    sql: SELECT 1 AS x
    output_file: results/v.csv
"""


def test_a_step_without_transaction_writes_its_output_file(tmp_path: Path, db_url: URL) -> None:
    """PostgreSQL's output path needs a transaction (a savepoint, a cursor, LOCAL settings):
    in autocommit the statement gets one of its own."""
    root = make(tmp_path, db_url, AUTOCOMMIT)
    result = run(root)
    assert result.status is RunStatus.SUCCESS, result.step("report").error
    assert (root / "results" / "v.csv").read_text(encoding="utf-8") == "x\n1\n"
    assert result.step("report").rows == 1
