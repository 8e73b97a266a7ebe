"""A step without ``type:`` is the kind its file's extension names, or a problem at plan time.

Before kinds declared their extensions, anything but ``.py`` was planned as SQL: a
``file: customers.csv`` became a SQL step that failed at run time with a syntax error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import ordo
from ordo.errors import Problem
from tests.support.project import make_project


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(ordo.ManifestInvalid) as caught:
        ordo.plan(project=root, environ={})
    return caught.value.problems


def test_a_file_of_no_kind_is_not_planned_as_sql(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: create
            sql: CREATE TABLE customers (id INTEGER)
          - name: customers
            file: customers.txt
        """
    root = make_project(tmp_path, manifest, sql={"customers.txt": "id\n1\n"})
    [problem] = problems_of(root)
    assert problem.step == "customers"
    assert problem.line == 5  # the file: key
    assert "'.txt' files" in problem.message
    assert problem.hint is not None
    for name in ("sql", "plsql", "python", "migrate", "seed"):
        assert name in problem.hint
    assert "type:" in problem.hint


def test_a_csv_file_is_a_seed(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: customers
            file: customers.csv
        """
    root = make_project(tmp_path, manifest)
    (root / "seeds").mkdir()
    (root / "seeds" / "customers.csv").write_text("id\n1\n")
    [step] = ordo.plan(project=root, environ={}).steps
    assert step.kind == "seed"


def test_a_file_without_an_extension_needs_a_type(tmp_path: Path) -> None:
    root = make_project(
        tmp_path, "steps:\n  - name: x\n    file: script\n", sql={"script": "SELECT 1"}
    )
    [problem] = problems_of(root)
    assert "files without an extension" in problem.message
    assert problem.line == 3


def test_an_explicit_type_takes_any_file(tmp_path: Path) -> None:
    manifest = "steps:\n  - name: x\n    type: sql\n    file: query.txt\n"
    root = make_project(tmp_path, manifest, sql={"query.txt": "SELECT 1"})
    [step] = ordo.plan(project=root, environ={}).steps
    assert step.kind == "sql"


def test_the_extension_decides_sql_and_python_as_before(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: q
            file: Query.SQL
          - name: job
            file: job.py
          - name: inline
            sql: SELECT 1
        """
    root = make_project(
        tmp_path, manifest, sql={"Query.SQL": "SELECT 1"}, python={"job.py": "print(1)"}
    )
    plan = ordo.plan(project=root, environ={})
    assert [(s.name, s.kind) for s in plan.steps] == [
        ("q", "sql"),
        ("job", "python"),
        ("inline", "sql"),
    ]
