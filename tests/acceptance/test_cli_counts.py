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


# -- issue 9: the end of a run counts every step once, and says only what is true ---------------

GROUP_FAILS = """\
name: counts
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
    transaction_group: g
  - name: insert
    sql: INSERT INTO t VALUES (1)
    transaction_group: g
  - name: fail
    sql: SELECT * FROM missing
    transaction_group: g
"""


def _log(root: Path) -> str:
    [log] = (root / "logs").glob("*.log")
    return log.read_text(encoding="utf-8")


def test_a_failed_group_counts_its_failed_and_rolled_back_steps(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    """Issue 9 saw ``0 done, 0 not run`` after a failed 3-step group."""
    root = make_project(tmp_path / "p", GROUP_FAILS)
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Run failed: 'fail' failed; 0 done, 1 failed, 2 rolled back\n" in done.stdout
    assert "(3 steps: 0 done, 1 failed, 2 rolled back)" in _log(root)


def test_ten_steps_are_ten_in_the_counts(ordo_cli: Runner, tmp_path: Path) -> None:
    """Issue 9 saw ``3 done, 5 not run`` for 10 steps."""
    before = "".join(f"  - name: s{i}\n    sql: SELECT {i}\n" for i in range(1, 4))
    group = (
        "  - name: make\n    sql: CREATE TABLE t (x INTEGER)\n    transaction_group: g\n"
        "  - name: fail\n    sql: SELECT * FROM missing\n    transaction_group: g\n"
    )
    after = "".join(f"  - name: a{i}\n    sql: SELECT {i}\n" for i in range(1, 6))
    root = make_project(tmp_path / "p", f"name: counts\nsteps:\n{before}{group}{after}")
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "; 3 done, 1 failed, 1 rolled back, 5 not run\n" in done.stdout
    assert "(10 steps: 3 done, 1 failed, 1 rolled back, 5 not run)" in _log(root)


def test_a_failed_python_step_is_not_said_to_be_rolled_back(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    """Python steps are not transactional: nothing of theirs is rolled back."""
    root = make_project(
        tmp_path / "p",
        "name: counts\nsteps:\n  - name: py\n    file: boom.py\n",
        python={"boom.py": "import sys\nsys.exit(3)\n"},
    )
    done = ordo_cli("run", "-y", cwd=root)
    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown
    assert "rolled back" not in shown
    text = _log(root)
    assert "'py' failed for good after 1 attempt\n" in text
    assert "rolled back" not in text
    assert "(1 step: 0 done, 1 failed)" in text


def test_a_step_found_in_the_ledger_is_logged_as_not_run_without_attempt_0(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    import ordo

    root = make_project(tmp_path / "p", ONE)
    # commits and ledgers the step, marks nothing: what a crash before the mark leaves
    first = ordo.run(
        project=root, environ={}, options=ordo.RunOptions(record_state=False, log_file=False)
    )
    assert first.status == "success"

    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    text = _log(root)
    assert "attempt 0" not in text
    assert "[1/1] sql 'make' not run" in text
    assert "'make' recorded as done: an earlier run committed it" in text
    assert "found in the ledger" in text


def test_an_output_step_on_sqlite_shows_its_row_count(ordo_cli: Runner, tmp_path: Path) -> None:
    """SQLite counts no rows for a SELECT; the rows written to the file are the count."""
    root = make_project(
        tmp_path / "p",
        "name: counts\nsteps:\n  - name: out\n"
        "    sql: SELECT 1 AS a UNION ALL SELECT 2\n    output_file: results/out.csv\n",
    )
    done = ordo_cli("run", "-y", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert ", 2 rows → out.csv\n" in done.stdout
    assert ", 2 rows (attempt 1)" in _log(root)
