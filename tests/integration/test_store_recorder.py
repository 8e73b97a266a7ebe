"""The recorder on real stores: scripted runs, a real ``ordo.run``, and a store that breaks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text

import ordo
from ordo.events import RunStatus
from ordo.masking import Masker
from ordo.store.base import RunState, StateStore, TaskStatus
from ordo.store.postgresql import PostgresStore
from ordo.store.sqlite import SqliteStore
from ordo.store.testing import RunScript
from ordo.subscribers.store import StoreRecorder
from tests.support.project import make_project

S = TaskStatus


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    made: StateStore
    if request.param == "sqlite":
        made = SqliteStore(tmp_path / ".ordo" / "state.db")
    else:
        made = PostgresStore(request.getfixturevalue("postgres_url"))
    yield made
    made.close()


def recorder(store: StateStore, **options: object) -> StoreRecorder:
    rec = StoreRecorder(
        store,
        job_name="nightly",
        manifest_path="/p/queue/manifest.yaml",
        manifest_text="name: nightly\n",
        **options,  # type: ignore[arg-type]
    )
    rec.start()
    return rec


def test_a_run_with_a_retry_a_rollback_and_skips_is_recorded(store: StateStore) -> None:
    script = RunScript(["create", "load", "g1", "g2", "g3", "report", "export"])
    script.unit_succeeds("create", rows=None)
    script.unit_retries("load", failing="load", error="deadlock detected")
    script.unit_succeeds("load", attempt=2, rows=500)
    script.unit_fails("g1", "g2", "g3", failing="g2", error="duplicate key", group="7")
    script.step_skipped("report", "it depends on 'g3', which did not run")
    rec = recorder(store, masker=Masker())
    for event in script.finish():
        rec.handle(event)
    assert rec.failures == 0

    detail = store.get_run(script.run_id)
    got = {t.step: (t.status, t.attempt_count) for t in detail.tasks}
    assert got == {
        "create": (S.COMPLETED, 1),
        "load": (S.COMPLETED, 2),
        "g1": (S.FAILED, 1),
        "g2": (S.FAILED, 1),
        "g3": (S.SKIPPED, 0),
        "report": (S.SKIPPED, 0),
        "export": (S.SKIPPED, 0),
    }
    assert detail.tasks[1].rows_affected == 500
    assert detail.run.status is RunState.FAILED
    assert detail.run.error == "step 'g2': duplicate key"
    assert [r.id for r in store.list_runs(job="nightly")] == [script.run_id]
    last = store.last_failed_run("nightly")
    assert last is not None
    assert last.id == script.run_id


def test_a_real_run_is_recorded_step_by_step(tmp_path: Path, sqlite_url: URL) -> None:
    root = make_project(
        tmp_path / "project",
        """\
        name: nightly
        retry: {base: 0.01}
        steps:
          - name: create
            sql: CREATE TABLE t (x INTEGER PRIMARY KEY)
          - name: one
            sql: INSERT INTO t (x) VALUES (1)
            transaction_group: 1
          - name: again
            sql: INSERT INTO t (x) VALUES (1)
            transaction_group: 1
          - name: after
            sql: SELECT 1
        """,
        env=f"DATABASE_URL={sqlite_url.render_as_string()}\n",
    )
    plan = ordo.plan(project=root, environ={})
    store = SqliteStore(root / ".ordo" / "state.db")
    try:
        rec = StoreRecorder.for_plan(store, plan, masker=plan.settings.masker())
        result = ordo.run(
            project=root, environ={}, options=ordo.RunOptions(notify=False, subscribers=[rec])
        )
        assert result.status is RunStatus.FAILED
        detail = store.get_run(result.run_id)
    finally:
        store.close()

    assert detail.run.status is RunState.FAILED
    assert detail.run.job == "nightly"
    assert detail.manifest_text == plan.manifest.text
    by_step = {t.step: t for t in detail.tasks}
    assert by_step["create"].status is S.COMPLETED
    assert by_step["create"].task_type == "sql"
    assert by_step["one"].status is S.FAILED  # it ran, and its group rolled back
    assert (by_step["one"].unit_index, by_step["one"].transaction_group) == (2, "1")
    assert by_step["again"].status is S.FAILED
    assert "UNIQUE" in (by_step["again"].error or "")
    assert by_step["after"].status is S.SKIPPED
    assert by_step["create"].max_attempts == 4  # three retries by default
    assert by_step["create"].duration_ms is not None


@pytest.mark.postgres
def test_a_store_that_breaks_mid_run_only_warns(
    postgres_url: URL, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresStore(postgres_url)
    try:
        rec = recorder(store)
        script = RunScript(["a", "b", "c"]).unit_succeeds("a")
        for event in script.take():
            rec.handle(event)
        rec.flush()
        engine = create_engine(postgres_url)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE tasks"))
        engine.dispose()
        with caplog.at_level(logging.WARNING, logger="ordo.store"):
            script.unit_succeeds("b").unit_succeeds("c").finish()
            for event in script.take():
                rec.handle(event)
        assert rec.failures > 0
        assert "the run goes on" in caplog.text
        assert "incomplete" in caplog.text
    finally:
        store.close()
