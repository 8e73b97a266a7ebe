"""``ordo run --resume [RUN_ID]``: the failed and skipped steps of a run, and nothing else."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.support.cli import Runner
from tests.support.project import make_project

MANIFEST = """\
name: resumable
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
  - name: first
    sql: INSERT INTO t VALUES (1)
  - name: broken
    sql: INSERT INTO {table} VALUES (2)
  - name: after
    sql: INSERT INTO t VALUES (3)
  - name: unrelated
    sql: INSERT INTO t VALUES (4)
"""


def rows(root: Path) -> list[int]:
    with sqlite3.connect(root / "data" / "test.db") as conn:
        return [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")]


def fix(root: Path) -> None:
    manifest = root / "queue" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("INTO nowhere", "INTO t"))


def test_resume_runs_what_did_not_complete_of_the_last_failed_run(
    ordo_cli: Runner, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", MANIFEST.format(table="nowhere"))
    assert ordo_cli("run", "-y", "--select", "create,first,broken,after", cwd=root).returncode == 1
    fix(root)
    resumed = ordo_cli("run", "-y", "--resume", cwd=root)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert rows(root) == [1, 2, 3]  # 'unrelated' was not part of the failed run
    listed = json.loads(ordo_cli("runs", "--json", cwd=root).stdout)
    assert listed[0]["resumed_from"] == listed[1]["id"]
    again = ordo_cli("run", "-y", "--resume", cwd=root)
    assert again.returncode == 2
    assert "nothing to resume" in again.stderr


def test_resume_a_named_run(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST.format(table="nowhere"))
    assert ordo_cli("run", "-y", cwd=root).returncode == 1
    [failed] = json.loads(ordo_cli("runs", "--json", cwd=root).stdout)
    fix(root)
    resumed = ordo_cli("run", "--resume", failed["id"][:10], "-y", cwd=root)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert rows(root) == [1, 2, 3, 4]


def test_resume_with_no_runs_and_an_unknown_run(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST.format(table="t"))
    none = ordo_cli("run", "-y", "--resume", cwd=root)
    assert none.returncode == 2
    assert "has no runs" in none.stderr
    unknown = ordo_cli("run", "-y", "--resume", "ffffffff", cwd=root)
    assert unknown.returncode == 2
    assert "ffffffff" in unknown.stderr
