"""``--rehearse``: the real statements, then everything rolled back (issue 4, point 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, inspect

import ordo
from tests.support.project import database_env, make_project

MANIFEST = """\
name: rehearsed
steps:
  - name: create
    sql: CREATE TABLE rehearsed (x INT)
  - name: fill
    sql: INSERT INTO rehearsed VALUES (1), (2), (3)
    transaction_group: g
  - name: more
    sql: INSERT INTO rehearsed VALUES (4)
    transaction_group: g
  - name: script
    file: never.py
  - name: broken
    sql: INSERT INTO nowhere VALUES (1)
  - name: after
    sql: INSERT INTO rehearsed VALUES (5)
"""


def project(tmp_path: Path, url: URL) -> Path:
    return make_project(
        tmp_path / "p",
        MANIFEST,
        python={"never.py": "raise SystemExit('a rehearsal must not run python steps')\n"},
        env=database_env(url),
    )


def test_rehearsal_runs_sql_for_real_and_leaves_nothing(db_url: URL, tmp_path: Path) -> None:
    root = project(tmp_path, db_url)
    if db_url.get_backend_name() == "mysql":  # its DDL commits on its own: refused, not faked
        with pytest.raises(ordo.InvalidInput, match="cannot rehearse on connection 'default'"):
            ordo.run(project=root, environ={}, options=ordo.RunOptions(rehearse=True))
        return
    manifest = root / "queue" / "manifest.yaml"
    before = manifest.read_bytes()
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(rehearse=True))
    steps = {s.name: s for s in result.steps}
    assert steps["create"].status == "success"
    assert steps["fill"].rows == 3  # it really ran
    assert steps["script"].status == "skipped"
    assert "not rehearsed" in (steps["script"].error or "")
    assert steps["broken"].status == "failed"
    assert "nowhere" in (steps["broken"].error or "")
    if db_url.get_backend_name() == "duckdb":  # no savepoints: the rest of it is not rehearsed
        assert steps["after"].status == "skipped"
    else:
        assert steps["after"].status == "success"
    assert result.status == "failed"
    assert manifest.read_bytes() == before  # nothing recorded as done
    from ordo.api.run_history import list_runs

    [recorded] = list_runs(project=root)
    assert recorded.rehearsal
    assert recorded.id == result.run_id
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert not inspect(conn).has_table("rehearsed")  # everything rolled back
            assert not inspect(conn).has_table("ordo_ledger")
    finally:
        engine.dispose()
    run = ordo.run(
        project=root,
        environ={},
        options=ordo.RunOptions(notify=False, select=["create", "fill", "more"]),
    )
    assert run.status == "success"  # and the real run afterwards is unaffected
