"""The store recorder writes a batch of events in one transaction (issue 8, point 4); a batch
that fails is written again event by event, so that one bad write loses only itself."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ordo.events import RunStatus
from ordo.store.base import TaskOutcome, TaskStatus
from ordo.store.sqlite import SqliteStore
from ordo.store.testing import RunScript
from ordo.subscribers.store import StoreRecorder


class FailsOnB(SqliteStore):
    """Refuses to record the end of step 'b', as a broken store would."""

    def task_finished(self, run_id: str, outcomes: Sequence[TaskOutcome]) -> None:
        if any(outcome.step == "b" for outcome in outcomes):
            raise RuntimeError("disk full")
        super().task_finished(run_id, outcomes)


def record(store: SqliteStore, script: RunScript, status: RunStatus) -> StoreRecorder:
    recorder = StoreRecorder(
        store, job_name="job", manifest_path="m.yaml", manifest_text="name: job\n"
    )
    recorder.start()
    for event in script.finish(status):
        recorder.handle(event)  # RunFinished closes the recorder: everything is written
    return recorder


def test_a_whole_run_is_recorded_through_batches(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.db")
    script = RunScript(["a", "b", "c"])
    for step in ("a", "b", "c"):
        script.unit_succeeds(step, rows=1)
    recorder = record(store, script, RunStatus.SUCCESS)
    detail = store.get_run(script.run_id)
    store.close()
    assert recorder.failures == 0
    assert detail.run.status == "success"
    assert {task.step: task.status for task in detail.tasks} == dict.fromkeys(
        "abc", TaskStatus.COMPLETED
    )


def test_one_failed_write_in_a_batch_loses_only_itself(tmp_path: Path) -> None:
    store = FailsOnB(tmp_path / "state.db")
    script = RunScript(["a", "b", "c"])
    for step in ("a", "b", "c"):
        script.unit_succeeds(step, rows=1)
    recorder = record(store, script, RunStatus.SUCCESS)
    detail = store.get_run(script.run_id)
    store.close()
    assert recorder.failures == 1
    statuses = {task.step: task.status for task in detail.tasks}
    assert statuses["a"] == TaskStatus.COMPLETED
    assert statuses["c"] == TaskStatus.COMPLETED
    assert statuses["b"] != TaskStatus.COMPLETED
    assert detail.run.status == "success"
