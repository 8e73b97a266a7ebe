"""The store recorder writes a batch of events in one transaction (issue 8, point 4); a batch
that fails is written again event by event, so that one bad write loses only itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
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


def test_a_batch_keeps_each_tasks_writes_in_order_when_it_sends_them_together(
    tmp_path: Path,
) -> None:
    # Inside a batch the task writes go as one executemany per statement; a step that is
    # retried, fails or is skipped between others must still end as its last write says.
    store = SqliteStore(tmp_path / "state.db")
    script = RunScript(["a", "b", "c", "d", "e"])
    script.unit_succeeds("a", rows=1)
    script.unit_retries("b", failing="b")
    script.unit_succeeds("b", rows=2, attempt=2)
    script.unit_fails("c", failing="c")
    script.step_skipped("d")
    script.unit_succeeds("e", rows=3)
    recorder = StoreRecorder(
        store, job_name="job", manifest_path="m.yaml", manifest_text="name: job\n"
    )
    # the whole run handed over as one batch, as the writer thread would
    recorder._write_batch([(event, datetime.now(UTC)) for event in script.finish(RunStatus.FAILED)])
    detail = store.get_run(script.run_id)
    store.close()
    assert recorder.failures == 0
    tasks = {task.step: task for task in detail.tasks}
    assert {step: task.status for step, task in tasks.items()} == {
        "a": TaskStatus.COMPLETED,
        "b": TaskStatus.COMPLETED,
        "c": TaskStatus.FAILED,
        "d": TaskStatus.SKIPPED,
        "e": TaskStatus.COMPLETED,
    }
    assert tasks["b"].attempt_count == 2
    assert tasks["b"].rows_affected == 2
