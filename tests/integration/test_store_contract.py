"""The contract every state store keeps: memory, SQLite and PostgreSQL pass the same tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ordo.store.base import (
    PlannedTask,
    RunNotFound,
    RunOwner,
    RunState,
    StateStore,
    StoreError,
    TaskOutcome,
    TaskStatus,
    manifest_hash,
)
from ordo.store.memory import MemoryStore
from ordo.store.postgresql import PostgresStore
from ordo.store.sqlite import SqliteStore

S = TaskStatus
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """Each store in turn, empty; PostgreSQL in a schema of its own."""
    made: StateStore
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqliteStore(tmp_path / ".ordo" / "state.db")
    else:
        made = PostgresStore(request.getfixturevalue("postgres_url"))
    yield made
    made.close()


def start(
    store: StateStore,
    run_id: str,
    steps: tuple[str, ...] = ("a", "b", "c"),
    *,
    job: str = "sales",
    at: datetime = T0,
    text: str = "name: sales\n",
    rehearsal: bool = False,
    resumed_from: str | None = None,
    owner: RunOwner | None = None,
) -> str:
    job_id = store.record_job(job, f"/projects/{job}/queue/manifest.yaml", text)
    store.start_run(
        run_id,
        job_id,
        started_at=at,
        manifest_text=text,
        tasks=[PlannedTask(s, i, "sql", i, None, 4) for i, s in enumerate(steps, 1)],
        rehearsal=rehearsal,
        resumed_from=resumed_from,
        owner=owner,
    )
    return job_id


def statuses(store: StateStore, run_id: str) -> dict[str, TaskStatus]:
    return {t.step: t.status for t in store.get_run(run_id).tasks}


# -- jobs and runs ----------------------------------------------------------------------------


def test_a_job_keeps_its_id_and_takes_the_latest_definition(store: StateStore) -> None:
    first = store.record_job("sales", "/a/manifest.yaml", "v1")
    again = store.record_job("sales", "/b/manifest.yaml", "v2", schedule="0 6 * * *")
    other = store.record_job("stock", "/a/manifest.yaml", "v1")
    assert first == again != other
    store.start_run("r1", first, started_at=T0, manifest_text="v2", tasks=[])
    assert store.get_run("r1").run.manifest_path == "/b/manifest.yaml"


def test_a_started_run_is_running_with_every_step_pending(store: StateStore) -> None:
    text = "name: café\r\nsteps:\n  - name: a  # ünïcode\n"
    start(store, "r1", ("create", "load", "report"), text=text)
    detail = store.get_run("r1")
    run = detail.run
    assert run.status is RunState.RUNNING
    assert run.completed_at is None
    assert (run.job, run.steps, run.completed, run.failed, run.skipped) == ("sales", 3, 0, 0, 0)
    assert detail.manifest_text == text
    assert run.manifest_hash == manifest_hash(text)
    assert [t.step for t in detail.tasks] == ["create", "load", "report"]
    assert {t.status for t in detail.tasks} == {S.PENDING}
    first = detail.tasks[0]
    assert (first.task_type, first.unit_index, first.max_attempts) == ("sql", 1, 4)
    assert (first.attempt_count, first.error, first.started_at) == (0, None, None)


def test_a_run_of_an_unknown_job_is_refused(store: StateStore) -> None:
    with pytest.raises(StoreError):
        store.start_run("r1", "no-such-job", started_at=T0, manifest_text="", tasks=[])


def test_a_run_id_is_recorded_once(store: StateStore) -> None:
    start(store, "r1")
    with pytest.raises(StoreError):
        start(store, "r1")
    assert len(store.list_runs()) == 1


def test_rehearsal_and_resumed_from_round_trip(store: StateStore) -> None:
    start(store, "r1")
    start(store, "r2", rehearsal=True, resumed_from="r1")
    run = store.get_run("r2").run
    assert (run.rehearsal, run.resumed_from) == (True, "r1")
    assert store.get_run("r1").run.rehearsal is False


def test_times_come_back_as_aware_utc(store: StateStore) -> None:
    naive_local = datetime(2026, 5, 1, 10, 30, 15, 123456)
    start(store, "r1", at=naive_local)
    store.task_started("r1", "a", attempt=1, at=T0 + timedelta(seconds=1))
    run = store.get_run("r1")
    assert run.run.started_at == naive_local.astimezone(UTC)
    assert run.run.started_at.tzinfo is not None
    assert run.tasks[0].started_at == T0 + timedelta(seconds=1)


# -- tasks ------------------------------------------------------------------------------------


def test_a_task_runs_retries_and_completes(store: StateStore) -> None:
    start(store, "r1")
    store.task_started("r1", "a", attempt=1, at=T0, task_type="plsql")
    assert statuses(store, "r1")["a"] is S.RUNNING
    failed = TaskOutcome("a", S.FAILED, T0, duration_ms=5.0, error="deadlock detected")
    store.task_finished("r1", [failed])
    store.task_retrying("r1", ["a"])
    task = store.get_run("r1").tasks[0]
    assert (task.status, task.error, task.task_type) == (S.RETRYING, "deadlock detected", "plsql")
    store.task_started("r1", "a", attempt=2, at=T0 + timedelta(seconds=4))
    task = store.get_run("r1").tasks[0]
    assert (task.status, task.attempt_count, task.error) == (S.RUNNING, 2, None)
    assert task.started_at == T0  # the first attempt's start
    done = TaskOutcome("a", S.COMPLETED, T0 + timedelta(seconds=5), rows=12, duration_ms=250.5)
    store.task_finished("r1", [done])
    task = store.get_run("r1").tasks[0]
    assert (task.status, task.rows_affected, task.duration_ms) == (S.COMPLETED, 12, 250.5)
    assert task.completed_at == T0 + timedelta(seconds=5)


def test_several_steps_finish_together(store: StateStore) -> None:
    start(store, "r1")
    store.task_finished(
        "r1",
        [
            TaskOutcome("a", S.COMPLETED, T0, rows=1, duration_ms=1.0),
            TaskOutcome("b", S.FAILED, T0, error="boom"),
            TaskOutcome("c", S.SKIPPED, T0, error="not run"),
        ],
    )
    assert statuses(store, "r1") == {"a": S.COMPLETED, "b": S.FAILED, "c": S.SKIPPED}
    run = store.get_run("r1").run
    assert (run.completed, run.failed, run.skipped) == (1, 1, 1)


def test_details_left_out_keep_what_was_stored(store: StateStore) -> None:
    start(store, "r1")
    store.task_finished("r1", [TaskOutcome("a", S.FAILED, T0, rows=3, duration_ms=9.5, error="x")])
    store.task_finished("r1", [TaskOutcome("a", S.FAILED, T0)])
    task = store.get_run("r1").tasks[0]
    assert (task.rows_affected, task.duration_ms, task.error) == (3, 9.5, "x")


def test_a_finished_task_must_have_ended(store: StateStore) -> None:
    start(store, "r1")
    with pytest.raises(ValueError, match="RUNNING"):
        store.task_finished("r1", [TaskOutcome("a", S.RUNNING, T0)])


def test_skipped_steps_keep_their_reason(store: StateStore) -> None:
    start(store, "r1")
    store.task_skipped("r1", ["b", "c"], reason="'a' failed", at=T0)
    tasks = store.get_run("r1").tasks
    assert [(t.status, t.error) for t in tasks[1:]] == [(S.SKIPPED, "'a' failed")] * 2


def test_writes_about_unknown_runs_or_steps_change_nothing(store: StateStore) -> None:
    start(store, "r1")
    store.task_started("nope", "a", attempt=1, at=T0)
    store.task_started("r1", "nope", attempt=1, at=T0)
    store.task_retrying("nope", ["a"])
    store.task_finished("nope", [TaskOutcome("a", S.COMPLETED, T0)])
    store.finish_run("nope", status="success", at=T0)
    assert set(statuses(store, "r1").values()) == {S.PENDING}
    assert [r.id for r in store.list_runs()] == ["r1"]


def test_finishing_a_run_settles_every_step_that_had_not_ended(store: StateStore) -> None:
    start(store, "r1", ("a", "b", "c", "d"))
    store.task_finished("r1", [TaskOutcome("a", S.COMPLETED, T0)])
    store.task_started("r1", "b", attempt=1, at=T0)
    store.task_finished("r1", [TaskOutcome("c", S.FAILED, T0, error="deadlock")])
    store.task_retrying("r1", ["c"])
    end = T0 + timedelta(minutes=2)
    store.finish_run("r1", status="aborted", at=end, error="interrupted")
    detail = store.get_run("r1")
    by_step = {t.step: t for t in detail.tasks}
    assert by_step["a"].status is S.COMPLETED
    assert by_step["a"].error is None
    assert (by_step["b"].status, by_step["b"].error) == (
        S.FAILED,
        "did not finish: the run ended aborted",
    )
    assert (by_step["c"].status, by_step["c"].error) == (S.FAILED, "deadlock")
    assert (by_step["d"].status, by_step["d"].error) == (
        S.SKIPPED,
        "not run: the run ended aborted",
    )
    assert detail.run.status is RunState.ABORTED
    assert (detail.run.error, detail.run.completed_at) == ("interrupted", end)
    assert detail.run.duration == 120.0


# -- crashed runs -----------------------------------------------------------------------------


def test_a_run_keeps_the_process_that_ran_it(store: StateStore) -> None:
    owner = RunOwner("build-1", 4242, "boot:123")
    start(store, "r1", owner=owner)
    start(store, "r0", at=T0 - timedelta(hours=1))  # recorded without one
    assert store.get_run("r1").run.owner == owner
    assert store.get_run("r0").run.owner is None
    assert store.get_run("r1").run.as_dict()["process"] == {"host": "build-1", "pid": 4242}


def test_running_runs_are_those_of_the_job_still_running(store: StateStore) -> None:
    start(store, "done", at=T0)
    store.finish_run("done", status="success", at=T0 + timedelta(minutes=1))
    start(store, "old", at=T0 + timedelta(hours=1))
    start(store, "new", at=T0 + timedelta(hours=2))
    start(store, "other", job="stock", at=T0 + timedelta(hours=3))
    assert [run.id for run in store.running_runs("sales")] == ["new", "old"]
    assert store.running_runs("nothing") == []


def test_a_crashed_run_ends_when_it_was_last_heard_of(store: StateStore) -> None:
    start(store, "r1", ("a", "b", "c"))
    store.task_started("r1", "a", attempt=1, at=T0 + timedelta(seconds=10))
    store.task_finished("r1", [TaskOutcome("a", S.COMPLETED, T0 + timedelta(seconds=20))])
    store.task_started("r1", "b", attempt=1, at=T0 + timedelta(seconds=30))
    assert store.mark_crashed("r1", error="its process is gone")
    detail = store.get_run("r1")
    assert detail.run.status is RunState.CRASHED
    assert detail.run.error == "its process is gone"
    assert detail.run.completed_at == T0 + timedelta(seconds=30)
    assert statuses(store, "r1") == {"a": S.COMPLETED, "b": S.FAILED, "c": S.SKIPPED}
    assert store.running_runs("sales") == []
    assert not store.mark_crashed("r1", error="again")  # only a running run
    assert store.get_run("r1").run.error == "its process is gone"
    start(store, "r2", at=T0 + timedelta(hours=1))  # no step started: ends at its start
    assert store.mark_crashed("r2", error="gone")
    assert store.get_run("r2").run.completed_at == T0 + timedelta(hours=1)
    assert not store.mark_crashed("unknown", error="gone")


def test_a_crashed_run_is_the_last_failed_one(store: StateStore) -> None:
    start(store, "failed", at=T0)
    store.finish_run("failed", status="failed", at=T0 + timedelta(minutes=1))
    start(store, "killed", at=T0 + timedelta(hours=1))
    assert store.mark_crashed("killed", error="gone")
    found = store.last_failed_run("sales")
    assert found is not None
    assert (found.id, found.status) == ("killed", RunState.CRASHED)


# -- reading ----------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_with_a_limit_and_a_job(store: StateStore) -> None:
    for i in range(5):
        start(store, f"run{i}", job="sales" if i % 2 else "stock", at=T0 + timedelta(hours=i))
    assert [r.id for r in store.list_runs()] == ["run4", "run3", "run2", "run1", "run0"]
    assert [r.id for r in store.list_runs(limit=2)] == ["run4", "run3"]
    assert [r.id for r in store.list_runs(job="sales")] == ["run3", "run1"]
    assert store.list_runs(job="nothing") == []
    assert all(r.steps == 3 for r in store.list_runs())


def test_a_run_is_found_by_its_id_or_a_unique_prefix(store: StateStore) -> None:
    start(store, "3f2a9c")
    start(store, "3f77aa")
    start(store, "3f")  # a whole id that is also a prefix of the others
    assert store.get_run("3f2a9c").run.id == "3f2a9c"
    assert store.get_run("3f2").run.id == "3f2a9c"
    assert store.get_run("3f").run.id == "3f"
    with pytest.raises(RunNotFound, match="'9z9' in the state store") as missing:
        store.get_run("9z9")
    assert missing.value.exit_code == 2
    start(store, "ab01")
    start(store, "ab02")
    with pytest.raises(RunNotFound, match="ambiguous"):
        store.get_run("ab")


def test_prefix_wildcards_are_taken_literally(store: StateStore) -> None:
    start(store, "abc")
    for pattern in ("%", "_bc", "a%"):
        with pytest.raises(RunNotFound):
            store.get_run(pattern)
    with pytest.raises(RunNotFound):
        store.get_run("")


def test_the_last_failed_run_of_a_job(store: StateStore) -> None:
    assert store.last_failed_run("sales") is None
    outcomes = [
        ("old-fail", "sales", "failed", False),
        ("partial", "sales", "partial_success", False),
        ("rehearsed", "sales", "failed", True),
        ("other-job", "stock", "failed", False),
        ("ok", "sales", "success", False),
        ("still-running", "sales", None, False),
    ]
    for i, (run_id, job, status, rehearsal) in enumerate(outcomes):
        start(store, run_id, job=job, at=T0 + timedelta(hours=i), rehearsal=rehearsal)
        if status:
            store.finish_run(run_id, status=status, at=T0 + timedelta(hours=i, minutes=1))
    found = store.last_failed_run("sales")
    assert found is not None
    assert found.id == "partial"
    assert found.status is RunState.PARTIAL_SUCCESS
    start(store, "aborted", at=T0 + timedelta(days=1))
    store.finish_run("aborted", status="aborted", at=T0 + timedelta(days=1, minutes=1))
    found = store.last_failed_run("sales")
    assert found is not None
    assert found.id == "aborted"


def test_a_long_run_is_recorded_whole(store: StateStore) -> None:
    steps = tuple(f"step {i:04d}" for i in range(1000))
    start(store, "big", steps)
    store.task_finished("big", [TaskOutcome(s, S.COMPLETED, T0, rows=1) for s in steps[:600]])
    store.finish_run("big", status="failed", at=T0)
    run = store.get_run("big").run
    assert (run.steps, run.completed, run.skipped) == (1000, 600, 400)


def test_threads_may_write_at_once(store: StateStore) -> None:
    steps = tuple(f"s{i}" for i in range(40))
    start(store, "r1", steps)
    errors: list[BaseException] = []

    def work(names: tuple[str, ...]) -> None:
        try:
            for name in names:
                store.task_started("r1", name, attempt=1, at=T0)
                store.task_finished("r1", [TaskOutcome(name, S.COMPLETED, T0, rows=1)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(steps[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(statuses(store, "r1").values()) == {S.COMPLETED}
