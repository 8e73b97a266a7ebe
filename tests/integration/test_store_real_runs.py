"""Real runs recorded in the PostgreSQL state store (ORDO_STATE_URL), and resumed from it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import URL

import ordo
from ordo.api.run_history import list_runs, show_run
from tests.support.project import make_project

MANIFEST = """\
name: team pipeline
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
  - name: broken
    sql: INSERT INTO {table} VALUES (1)
  - name: after
    sql: INSERT INTO t VALUES (2)
"""


def test_runs_and_a_resume_are_recorded_in_postgresql(postgres_url: URL, tmp_path: Path) -> None:
    state = postgres_url.render_as_string(hide_password=False)
    root = make_project(
        tmp_path / "p",
        MANIFEST.format(table="nowhere"),
        env=f"DATABASE_URL=sqlite:///data/test.db\nORDO_STATE_URL={state}\n",
    )
    failed = ordo.run(project=root, options=ordo.RunOptions(notify=False))
    assert failed.status == "failed"
    assert not (root / ".ordo" / "state.db").exists()  # the team store, not the local file
    manifest = root / "queue" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("INTO nowhere", "INTO t"))
    resumed = ordo.run(project=root, options=ordo.RunOptions(notify=False, resume="last"))
    assert resumed.status == "success"
    assert [s.name for s in resumed.steps] == ["broken", "after"]

    newest, first = list_runs(project=root)[:2]
    assert first.id == failed.run_id
    assert first.status == "failed"
    assert newest.resumed_from == failed.run_id
    detail = show_run(failed.run_id[:8], project=root)
    assert {t.step: str(t.status) for t in detail.tasks} == {
        "create": "COMPLETED",
        "broken": "FAILED",
        "after": "SKIPPED",
    }
    assert detail.manifest_text.startswith("name: team pipeline")
