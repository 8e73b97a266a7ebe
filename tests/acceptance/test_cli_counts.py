"""Counts agree with their nouns in what ``ordo run`` prints and logs: ``1 task``, ``2 tasks``.

Issue 8 saw ``1 steps`` and ``1 tasks``: each message below is checked in the singular and
the plural, through the command as a user runs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ordo._words import plural
from tests.support.cli import Runner
from tests.support.project import make_project

ONE = """\
name: counts
steps:
  - name: make
    sql: CREATE TABLE t AS SELECT 1 AS x
"""

TWO = """\
name: counts
steps:
  - name: make
    sql: CREATE TABLE t (x INTEGER)
  - name: fill
    sql: INSERT INTO t VALUES (1), (2)
"""


def test_plural_agrees_with_the_count() -> None:
    assert plural(1, "step") == "1 step"
    assert plural(0, "step") == "0 steps"
    assert plural(2, "step") == "2 steps"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"


def test_one_step_is_singular_everywhere(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", ONE)
    refused = ordo_cli("run", cwd=root, input="n\n")
    assert "Plan loaded with 1 task. Are you sure you want to execute? [y/N]: " in refused.stdout
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "of 'counts': 1 step\n" in done.stdout
    assert "✅ 1 task completed in " in done.stdout
    assert "1 steps" not in done.stdout
    assert "1 tasks" not in done.stdout
    [log] = (root / "logs").glob("*.log")
    assert "(1 step: 1 done)" in log.read_text(encoding="utf-8")


def test_two_steps_are_plural_and_one_row_is_singular(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p",
        TWO.replace("VALUES (1), (2)", "VALUES (1)"),
    )
    refused = ordo_cli("run", cwd=root, input="n\n")
    assert "Plan loaded with 2 tasks. Are you sure you want to execute? [y/N]: " in refused.stdout
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "of 'counts': 2 steps\n" in done.stdout
    assert "✅ 2 tasks completed in " in done.stdout
    assert "fill in " in done.stdout
    assert ", 1 row\n" in done.stdout
    [log] = (root / "logs").glob("*.log")
    assert "s, 1 row (attempt 1)" in log.read_text(encoding="utf-8")
    assert "(2 steps: 2 done)" in log.read_text(encoding="utf-8")


@pytest.mark.parametrize(("values", "shown"), [("(1), (2)", "2 rows"), ("(1)", "1 row")])
def test_rows_of_a_step_in_the_console_and_the_log(
    ordo_cli: Runner, tmp_path: Path, values: str, shown: str
) -> None:
    root = make_project(tmp_path / "p", TWO.replace("(1), (2)", values))
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f", {shown}\n" in done.stdout
    [log] = (root / "logs").glob("*.log")
    assert f"s, {shown} (attempt 1)" in log.read_text(encoding="utf-8")
