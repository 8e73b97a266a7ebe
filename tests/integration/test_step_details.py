"""A kind's ``StepOutcome.details`` reach the run store and the step's log line, masked.

The fake kind (``ordo.kinds.testing.EchoKind``) returns the details a step asks for, the way
seed, validate and dbt will return rows per file, checks and models.
"""

from __future__ import annotations

from pathlib import Path

import ordo
from ordo.api.run_history import show_run
from ordo.kinds import registered
from ordo.kinds.testing import DetachedEchoKind, EchoKind
from tests.support.project import make_project

SECRET = "Sw0rdfish-Token"
MANIFEST = """\
    name: details
    steps:
      - name: load
        type: echo
        rows: 3
        details:
          files: {"a.csv": 2, "b.csv": 1}
          checks: [{"name": "not null", "passed": true}]
          note: "token SECRET_VALUE used"
      - name: quiet
        type: echo_detached
    """


def run_echo(tmp_path: Path) -> tuple[Path, ordo.RunResult]:
    env = f"DATABASE_URL=sqlite:///data/test.db\nAPI_TOKEN={SECRET}\n"
    root = make_project(tmp_path, MANIFEST.replace("SECRET_VALUE", SECRET), env=env)
    with registered(EchoKind()), registered(DetachedEchoKind()):
        result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    return root, result


def test_details_are_recorded_in_the_run_store(tmp_path: Path) -> None:
    root, result = run_echo(tmp_path)
    assert result.status == "success"
    tasks = {task.step: task for task in show_run(result.run_id, project=root).tasks}
    assert tasks["load"].rows_affected == 3
    assert tasks["load"].details == {
        "files": {"a.csv": 2, "b.csv": 1},
        "checks": [{"name": "not null", "passed": True}],
        "note": "token *** used",
    }
    assert tasks["quiet"].details == {}
    assert tasks["load"].as_dict()["details"]["files"] == {"a.csv": 2, "b.csv": 1}


def test_details_are_in_the_log_line_of_the_step(tmp_path: Path) -> None:
    root, _result = run_echo(tmp_path)
    [log] = (root / "logs").glob("ordo_*.log")
    text = log.read_text(encoding="utf-8")
    [line] = [line for line in text.splitlines() if "'load' finished" in line]
    assert '3 rows (attempt 1) details {"files":{"a.csv":2,"b.csv":1}' in line
    assert SECRET not in text
    [quiet] = [line for line in text.splitlines() if "'quiet' finished" in line]
    assert "details" not in quiet
