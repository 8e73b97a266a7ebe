"""Every run is recorded and can be looked at; a failed run leaves a manual review report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import Runner
from tests.support.project import make_project

MANIFEST = """\
name: history
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER PRIMARY KEY)
  - name: fill
    sql: INSERT INTO t VALUES (1), (2)
  - name: again
    sql: INSERT INTO t VALUES (1)
"""


def test_runs_are_recorded_and_shown(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", MANIFEST)
    first = ordo_cli("run", "-y", cwd=root)
    assert first.returncode == 1  # 'again' violates the primary key
    listed = ordo_cli("runs", "--json", cwd=root)
    assert listed.returncode == 0, listed.stderr
    [run] = json.loads(listed.stdout)
    assert run["status"] == "failed"
    shown = ordo_cli("runs", "show", run["id"][:8], "--json", cwd=root)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    steps = {task["step"]: task for task in detail["tasks"]}
    assert steps["create"]["status"] == "COMPLETED"
    assert steps["fill"]["rows"] == 2
    assert steps["again"]["status"] == "FAILED"
    assert "UNIQUE" in steps["again"]["error"].upper()
    [report] = list((root / "notifications").glob("manual_review_history_*.txt"))
    text = report.read_text()
    assert "MANUAL REVIEW NOTIFICATION" in text
    assert "again" in text


def test_the_report_can_be_turned_off(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", "notify: {report: false}\n" + MANIFEST)
    assert ordo_cli("run", "-y", cwd=root).returncode == 1
    assert not (root / "notifications").exists()


def test_pipeline_dictionary_of_a_result(tmp_path: Path) -> None:
    import ordo

    root = make_project(tmp_path / "p", MANIFEST)
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    rendered = result.as_pipeline_dict()
    assert rendered["overall_status"] == "failed"
    assert [s["name"] for s in rendered["steps"]] == ["create", "fill", "again"]
    assert rendered["timestamp"]
