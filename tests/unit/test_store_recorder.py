"""StoreRecorder on the in-memory store: what each realistic run leaves in the record."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from ordo.events import Event, RunStatus, UnitCommitted
from ordo.masking import Masker
from ordo.store.base import RunDetail, RunState, StoreError, TaskRecord, TaskStatus
from ordo.store.memory import MemoryStore
from ordo.store.testing import RunScript
from ordo.subscribers.store import StepLayout, StoreRecorder

S = TaskStatus


def recorder(store: MemoryStore, **options: Any) -> StoreRecorder:
    options.setdefault("background", False)
    rec = StoreRecorder(
        store,
        job_name="sales",
        manifest_path="/p/queue/manifest.yaml",
        manifest_text="name: sales\n",
        **options,
    )
    rec.start()  # a no-op with background=False
    return rec


def feed(events: Sequence[Event], **options: Any) -> RunDetail:
    store = MemoryStore()
    rec = recorder(store, **options)
    for event in events:
        rec.handle(event)
    assert rec.failures == 0
    return store.get_run(events[0].run_id)


def tasks(detail: RunDetail) -> dict[str, TaskRecord]:
    return {task.step: task for task in detail.tasks}


@pytest.mark.parametrize("background", [False, True])
def test_a_successful_run_completes_every_step(background: bool) -> None:
    script = RunScript(["create", "load", "report"], pipeline="sales")
    script.unit_succeeds("create", rows=None, duration=0.5)
    script.unit_succeeds("load", rows=42, duration=1.25)
    script.unit_succeeds("report", rows=3)
    detail = feed(script.finish(), background=background)

    run = detail.run
    assert run.status is RunState.SUCCESS
    assert (run.job, run.manifest_path) == ("sales", "/p/queue/manifest.yaml")
    assert (run.steps, run.completed, run.failed, run.skipped) == (3, 3, 0, 0)
    assert run.error is None
    assert run.completed_at is not None
    assert detail.manifest_text == "name: sales\n"
    load = tasks(detail)["load"]
    assert (load.status, load.attempt_count, load.rows_affected) == (S.COMPLETED, 1, 42)
    assert load.duration_ms == pytest.approx(1250.0)
    assert load.task_type == "sql"
    assert load.error is None
    assert tasks(detail)["create"].rows_affected is None
    assert [t.step for t in detail.tasks] == ["create", "load", "report"]


def test_the_run_starts_at_the_time_the_runner_gave() -> None:
    started = datetime(2026, 3, 1, 12, 0, 0)  # naive: local time, as the runner emits it
    detail = feed(RunScript(["a"], at=started).unit_succeeds("a").finish())
    assert detail.run.started_at == started.astimezone(UTC)


def test_a_retry_then_success_completes_on_the_second_attempt() -> None:
    store = MemoryStore()
    rec = recorder(store)
    script = RunScript(["load"])
    script.unit_retries("load", failing="load", error="deadlock detected")
    for event in script.take():
        rec.handle(event)
    waiting = store.get_run(script.run_id).tasks[0]
    assert (waiting.status, waiting.attempt_count) == (S.RETRYING, 1)
    assert waiting.error == "deadlock detected"

    script.unit_succeeds("load", attempt=2, rows=7).finish()
    for event in script.take():
        rec.handle(event)
    done = store.get_run(script.run_id).tasks[0]
    assert (done.status, done.attempt_count, done.rows_affected) == (S.COMPLETED, 2, 7)
    assert done.error is None  # the error belonged to the attempt that was retried
    assert store.get_run(script.run_id).run.status is RunState.SUCCESS


def test_a_step_is_completed_only_once_its_unit_commits() -> None:
    store = MemoryStore()
    rec = recorder(store)
    script = RunScript(["a", "b"])
    script.unit_succeeds("a", "b", group="g1")
    commit = script.events.pop()
    assert isinstance(commit, UnitCommitted)
    for event in script.events:
        rec.handle(event)
    assert {t.status for t in store.get_run(script.run_id).tasks} == {S.RUNNING}
    rec.handle(commit)
    assert {t.status for t in store.get_run(script.run_id).tasks} == {S.COMPLETED}


def test_a_group_that_rolls_back_fails_its_steps_and_skips_the_rest() -> None:
    script = RunScript(["a", "b", "c", "d"])
    script.unit_fails("a", "b", "c", failing="b", error='relation "x" does not exist', group="1")
    detail = feed(script.finish())

    by_step = tasks(detail)
    assert by_step["a"].status is S.FAILED
    assert by_step["a"].error == "rolled back: step 'b' of its transaction group failed"
    assert by_step["a"].rows_affected is None  # its rows were rolled back
    assert by_step["b"].status is S.FAILED
    assert by_step["b"].error == 'relation "x" does not exist'
    assert by_step["b"].duration_ms == pytest.approx(10.0)  # kept from StepFailed
    assert by_step["c"].status is S.SKIPPED
    assert by_step["c"].error == "not run: step 'b' of its transaction group failed"
    assert by_step["d"].status is S.SKIPPED
    assert by_step["d"].error == "not run: the run ended failed"
    run = detail.run
    assert run.status is RunState.FAILED
    assert run.error == "step 'b': relation \"x\" does not exist"
    assert (run.completed, run.failed, run.skipped) == (0, 2, 2)


def test_skipped_steps_keep_their_reason() -> None:
    script = RunScript(["a", "b", "c"])
    script.unit_fails("a", failing="a")
    script.step_skipped("b", "it depends on 'a', which failed")
    detail = feed(script.finish())
    assert tasks(detail)["b"].status is S.SKIPPED
    assert tasks(detail)["b"].error == "it depends on 'a', which failed"
    assert tasks(detail)["c"].error == "not run: the run ended failed"


def test_an_aborted_run_fails_the_running_step_and_skips_the_others() -> None:
    script = RunScript(["a", "b", "c"])
    script.unit_succeeds("a")
    script.step_started("b")
    detail = feed(script.finish(RunStatus.ABORTED))
    by_step = tasks(detail)
    assert detail.run.status is RunState.ABORTED
    assert by_step["a"].status is S.COMPLETED
    assert (by_step["b"].status, by_step["b"].error) == (
        S.FAILED,
        "did not finish: the run ended aborted",
    )
    assert by_step["c"].status is S.SKIPPED


def test_layout_fills_kind_unit_group_and_attempt_limit_from_the_start() -> None:
    layout = {
        "a": StepLayout("sql", 1, "g", 4),
        "b": StepLayout("sql", 1, "g", 4),
        "c": StepLayout("python", 2, None, 1),
    }
    store = MemoryStore()
    rec = recorder(store, layout=layout)
    script = RunScript(["a", "b", "c"])
    rec.handle(script.events[0])
    by_step = tasks(store.get_run(script.run_id))
    assert (by_step["b"].task_type, by_step["b"].unit_index) == ("sql", 1)
    assert (by_step["b"].transaction_group, by_step["b"].max_attempts) == ("g", 4)
    assert (by_step["c"].task_type, by_step["c"].max_attempts) == ("python", 1)


def test_rehearsal_and_resumed_from_are_recorded() -> None:
    detail = feed(
        RunScript(["a"]).unit_succeeds("a").finish(), rehearsal=True, resumed_from="abc123"
    )
    assert detail.run.rehearsal is True
    assert detail.run.resumed_from == "abc123"


def test_errors_are_masked_before_they_are_stored() -> None:
    script = RunScript(["a"])
    script.unit_fails("a", failing="a", error="login failed for password Sup3r-Secret")
    detail = feed(script.finish(), masker=Masker(["Sup3r-Secret"]))
    assert "Sup3r-Secret" not in str(detail.as_dict())
    assert detail.tasks[0].error == "login failed for password ***"


class FlakyStore(MemoryStore):
    """Fails every step start, as a store whose disk is full would."""

    def task_started(self, *args: Any, **kwargs: Any) -> None:
        raise StoreError("could not write to the state store: disk full (pw Sup3r-Secret)")


@pytest.mark.parametrize("background", [False, True])
def test_a_failing_store_never_fails_the_run(
    background: bool, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore()
    rec = recorder(store, background=background, masker=Masker(["Sup3r-Secret"]))
    script = RunScript(["a", "b"]).unit_succeeds("a").unit_succeeds("b")
    with caplog.at_level(logging.WARNING, logger="ordo.store"):
        for event in script.finish():
            rec.handle(event)  # raises nothing
    assert rec.failures == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # the first failure, and the summary at the end
    assert "disk full" in warnings[0]
    assert "the run goes on" in warnings[0]
    assert "2 write(s) failed" in warnings[1]
    assert "Sup3r-Secret" not in caplog.text
    # what could be written was written
    assert store.get_run(script.run_id).run.status is RunState.SUCCESS
    assert {t.status for t in store.get_run(script.run_id).tasks} == {S.COMPLETED}


def test_the_background_writer_keeps_order_and_is_done_when_the_run_is() -> None:
    store = MemoryStore()
    rec = recorder(store, background=True)
    script = RunScript([f"s{i}" for i in range(200)])
    for i in range(200):
        if i % 7 == 3:
            script.unit_retries(f"s{i}", failing=f"s{i}")
            script.unit_succeeds(f"s{i}", attempt=2)
        else:
            script.unit_succeeds(f"s{i}")
    for event in script.finish():
        rec.handle(event)
    detail = store.get_run(script.run_id)  # no flush: RunFinished waited for the writer
    assert {t.status for t in detail.tasks} == {S.COMPLETED}
    assert {t.attempt_count for t in detail.tasks if t.step == "s3"} == {2}
    assert detail.run.status is RunState.SUCCESS


def test_flush_and_close_write_what_is_queued() -> None:
    store = MemoryStore()
    rec = recorder(store, background=True)
    script = RunScript(["a", "b"]).unit_succeeds("a")
    for event in script.take():
        rec.handle(event)
    rec.flush()
    assert store.get_run(script.run_id).tasks[0].status is S.COMPLETED
    for event in script.step_started("b").take():
        rec.handle(event)
    rec.close()  # as ordo.run does when a run ends without RunFinished
    rec.close()
    assert store.get_run(script.run_id).tasks[1].status is S.RUNNING


def test_the_run_is_in_the_store_before_handle_returns_its_start() -> None:
    """Issue 9, item 5: a run killed in its first step still leaves its trace, so the start is
    written before the runner goes on to its first unit, even from the writer thread."""
    store = MemoryStore()
    rec = recorder(store, background=True)
    script = RunScript(["create", "load"], pipeline="sales")
    start = script.events[0]
    try:
        rec.handle(start)
        detail = store.get_run(start.run_id)  # no flush, no close: written already
        assert detail.run.status is RunState.RUNNING
        assert detail.run.owner is not None
        assert detail.run.owner.pid == os.getpid()
    finally:
        rec.close()
