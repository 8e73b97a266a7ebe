"""Running a selection (issue 4, point 7): only the selected steps run and are marked done.

The plan side of selection (every selector form, unknown names) is in
``tests/unit/test_graph_selection.py``; here a real run on SQLite.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL

from ordo.events import StepStarted
from tests.support.events import EventRecorder
from tests.support.runs import DONE, make, manifest_path, run_with, step_lines

MANIFEST = """\
    max_parallel: 2
    steps:
      - name: schema
        sql: CREATE TABLE t (id INTEGER)
        tags: [quick]
      - name: load
        sql: INSERT INTO t VALUES (1)
      - name: report
        sql: SELECT COUNT(*) FROM t
        tags: [quick]
      - name: extra
        sql: SELECT 1
        depends_on: []
    """


def marked(root: Path, step: str) -> bool:
    text = manifest_path(root).read_text()
    return any(DONE.search(line) for line in step_lines(text, step))


def test_a_selected_run_runs_and_marks_only_its_steps(tmp_path: Path, sqlite_url: URL) -> None:
    """``report`` waits for ``load``, which is left out and not done: it runs anyway, after
    ``schema`` (dbt's semantics); ``load`` and ``extra`` stay enabled for a later run."""
    root = make(tmp_path, sqlite_url, MANIFEST)
    timeline = EventRecorder()

    result = run_with(root, timeline, select=["tag:quick"])

    assert result.status == "success", result.error
    assert [s.name for s in result.steps] == ["schema", "report"]
    started = [e.step for e in timeline.events if isinstance(e, StepStarted)]
    assert started == ["schema", "report"]
    assert [marked(root, s) for s in ("schema", "load", "report", "extra")] == [
        True,
        False,
        True,
        False,
    ]

    rest = run_with(root, EventRecorder())  # the next run takes what is left

    assert [s.name for s in rest.steps] == ["load", "extra"]
    assert rest.status == "success", rest.error
