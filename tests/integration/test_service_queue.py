"""The run queue and the workers table on real SQLite and PostgreSQL, and in memory: claims
with leases, heartbeats, max_active_runs, cancel, expired leases resumed, fires queued with
their run, concurrent claims."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.service.scheduler import Scheduler
from ordo.store.jobs import JobNotFound, JobOrigin, JobSpec
from ordo.store.memory import MemoryStore
from ordo.store.postgresql import PostgresStore
from ordo.store.queue import (
    RunTrigger,
    ServiceRunNotFound,
    ServiceRunStatus,
    WorkerRecord,
    WorkerState,
)
from ordo.store.service import ServiceStore
from ordo.store.sqlite import SqliteStore

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
Opener = Callable[[], ServiceStore]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the same store again on each call (the one memory store, kept open)."""
    if request.param == "memory":
        made = MemoryStore()  # it forgets nothing when closed
        return lambda: made
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / ".ordo" / "state.db")
    url: URL = request.getfixturevalue("postgres_url")
    return lambda: PostgresStore(url)


@pytest.fixture
def store(opener: Opener) -> Iterator[ServiceStore]:
    made = opener()
    yield made
    made.close()


def a_job(store: ServiceStore, name: str = "sales", max_active: int = 1) -> str:
    spec = JobSpec(name=name, manifest="m.yaml", max_active_runs=max_active)
    return store.create_job(spec, origin=JobOrigin.API, at=T0).id


def test_a_queued_run_is_pending_with_what_it_was_asked(store: ServiceStore) -> None:
    job = a_job(store)
    run = store.enqueue_run(
        job, trigger=RunTrigger.API, at=T0, params={"region": "eu"}, select=["load"]
    )
    assert run.status is ServiceRunStatus.PENDING
    assert (run.params, run.select, run.trigger, run.attempts) == (
        {"region": "eu"},
        ["load"],
        RunTrigger.API,
        0,
    )
    assert run.requested_at == T0
    assert store.get_service_run(run.id) == run
    with pytest.raises(JobNotFound):
        store.enqueue_run("nope", trigger=RunTrigger.API, at=T0)
    with pytest.raises(ServiceRunNotFound):
        store.get_service_run("nope")


def test_claims_go_oldest_first_with_a_lease(store: ServiceStore) -> None:
    first = store.enqueue_run(a_job(store, "a"), trigger=RunTrigger.API, at=T0)
    second = store.enqueue_run(a_job(store, "b"), trigger=RunTrigger.CLI, at=T0 + LEASE)
    claimed = store.claim_next("w1", lease=LEASE, now=T0 + 2 * LEASE)
    assert claimed is not None
    assert claimed.id == first.id
    assert claimed.status is ServiceRunStatus.RUNNING
    assert (claimed.worker_id, claimed.attempts) == ("w1", 1)
    assert claimed.lease_until == T0 + 3 * LEASE
    assert claimed.ordo_run_id
    other = store.claim_next("w2", lease=LEASE, now=T0 + 2 * LEASE)
    assert other is not None
    assert other.id == second.id
    assert store.claim_next("w3", lease=LEASE, now=T0 + 2 * LEASE) is None


def test_max_active_runs_keeps_a_second_run_waiting(store: ServiceStore) -> None:
    job = a_job(store)
    first = store.enqueue_run(job, trigger=RunTrigger.API, at=T0)
    second = store.enqueue_run(job, trigger=RunTrigger.API, at=T0 + timedelta(seconds=1))
    assert store.claim_next("w1", lease=LEASE, now=T0) is not None
    assert store.claim_next("w2", lease=LEASE, now=T0) is None
    assert store.end_service_run(
        first.id, "w1", ServiceRunStatus.COMPLETED, at=T0, outcome="success"
    )
    claimed = store.claim_next("w2", lease=LEASE, now=T0)
    assert claimed is not None
    assert claimed.id == second.id
    two = a_job(store, "two", max_active=2)
    store.enqueue_run(two, trigger=RunTrigger.API, at=T0)
    store.enqueue_run(two, trigger=RunTrigger.API, at=T0)
    assert store.claim_next("w3", lease=LEASE, now=T0) is not None
    assert store.claim_next("w4", lease=LEASE, now=T0) is not None


def test_an_expired_lease_puts_the_run_back_and_its_worker_loses_it(store: ServiceStore) -> None:
    run = store.enqueue_run(a_job(store), trigger=RunTrigger.API, at=T0)
    assert store.claim_next("w1", lease=LEASE, now=T0) is not None
    beat = store.heartbeat(run.id, "w1", lease=LEASE, now=T0 + LEASE / 2)
    assert beat is not None
    assert beat.lease_until == T0 + LEASE * 3 / 2
    assert store.claim_next("w2", lease=LEASE, now=T0 + LEASE) is None  # still held
    resumed = store.claim_next("w2", lease=LEASE, now=T0 + 2 * LEASE)
    assert resumed is not None
    assert resumed.id == run.id
    assert (resumed.worker_id, resumed.attempts) == ("w2", 2)
    assert resumed.ordo_run_id != beat.ordo_run_id
    assert store.heartbeat(run.id, "w1", lease=LEASE, now=T0 + 2 * LEASE) is None
    assert not store.end_service_run(run.id, "w1", ServiceRunStatus.FAILED, at=T0)
    assert store.end_service_run(
        run.id, "w2", ServiceRunStatus.COMPLETED, at=T0 + 3 * LEASE, outcome="success"
    )
    done = store.get_service_run(run.id)
    assert (done.status, done.outcome, done.finished_at) == (
        ServiceRunStatus.COMPLETED,
        "success",
        T0 + 3 * LEASE,
    )


def test_cancel_ends_a_pending_run_and_asks_a_running_one(store: ServiceStore) -> None:
    job = a_job(store, max_active=2)
    pending = store.enqueue_run(job, trigger=RunTrigger.API, at=T0)
    cancelled = store.request_cancel(pending.id, at=T0)
    assert cancelled.status is ServiceRunStatus.CANCELLED
    assert store.claim_next("w1", lease=LEASE, now=T0) is None
    running = store.enqueue_run(job, trigger=RunTrigger.API, at=T0)
    assert store.claim_next("w1", lease=LEASE, now=T0) is not None
    asked = store.request_cancel(running.id, at=T0)
    assert asked.status is ServiceRunStatus.RUNNING
    assert asked.cancel_requested
    beat = store.heartbeat(running.id, "w1", lease=LEASE, now=T0)
    assert beat is not None
    assert beat.cancel_requested
    with pytest.raises(ServiceRunNotFound):
        store.request_cancel("nope", at=T0)


def test_runs_are_listed_newest_first_filtered_and_paged(store: ServiceStore) -> None:
    a, b = a_job(store, "a"), a_job(store, "b")
    for minute in range(5):
        store.enqueue_run(a, trigger=RunTrigger.API, at=T0 + timedelta(minutes=minute))
    store.enqueue_run(b, trigger=RunTrigger.API, at=T0)
    page = store.list_service_runs(job_id=a, limit=2, offset=1)
    assert page.total == 5
    assert [r.requested_at for r in page.runs] == [
        T0 + timedelta(minutes=3),
        T0 + timedelta(minutes=2),
    ]
    since = store.list_service_runs(since=T0 + timedelta(minutes=4))
    assert since.total == 1
    assert since.runs[0].job_name == "a"
    assert store.list_service_runs(status=ServiceRunStatus.RUNNING).total == 0
    assert store.list_service_runs(until=T0 + timedelta(seconds=1)).total == 2


def test_a_fire_and_its_run_are_queued_together_once(store: ServiceStore, opener: Opener) -> None:
    job = a_job(store)
    wins: list[bool] = []

    def claim(n: int) -> None:
        own = opener()
        try:
            wins.append(own.enqueue_fire(job, T0, run_id=f"run-{n}", at=T0, by=f"s{n}"))
        finally:
            own.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False, False, False, True]
    page = store.list_service_runs()
    assert page.total == 1
    (run,) = page.runs
    assert (run.trigger, run.scheduled_for) == (RunTrigger.SCHEDULE, T0)
    assert store.list_fires(job)[0].run_id == run.id


def test_workers_are_listed_and_lost_when_their_heartbeats_stop(store: ServiceStore) -> None:
    store.worker_beat(WorkerRecord("w1", "host", 11, WorkerState.IDLE, T0, T0))
    store.worker_beat(WorkerRecord("w2", "host", 12, WorkerState.IDLE, T0, T0))
    store.worker_beat(
        WorkerRecord("w1", "host", 11, WorkerState.BUSY, T0, T0 + LEASE, current_run="r1")
    )
    store.worker_beat(WorkerRecord("w3", "host", 13, WorkerState.STOPPED, T0, T0 + LEASE))
    found = store.list_workers(now=T0 + LEASE * 3 / 2, lost_after=LEASE)
    assert [(w.id, w.state, w.current_run) for w in found] == [
        ("w1", WorkerState.BUSY, "r1"),
        ("w2", WorkerState.LOST, None),
    ]
    figures = store.queue_figures(now=T0 + LEASE * 3 / 2, lost_after=LEASE)
    assert figures.workers == {"busy": 1, "lost": 1}


def test_two_schedulers_queue_one_run_per_fire_over_an_hour(
    store: ServiceStore, opener: Opener
) -> None:
    spec = JobSpec(name="five", manifest="m.yaml", schedule="*/5 * * * *")
    job = store.create_job(spec, origin=JobOrigin.API, at=T0)
    moments = [T0 + timedelta(seconds=20 * n) for n in range(1, 3 * 60 + 1)]
    barrier = threading.Barrier(2)

    def replica(name: str) -> None:
        own = opener()
        try:
            scheduler = Scheduler(own, lambda _fire: None, name=name)
            for now in moments:
                barrier.wait(timeout=60)
                scheduler.tick(now)
        finally:
            own.close()

    threads = [threading.Thread(target=replica, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = store.list_service_runs(job_id=job.id, limit=100).runs
    fires = store.list_fires(job.id)
    expected = [T0 + timedelta(minutes=5 * n) for n in range(1, 13)]
    assert sorted(r.scheduled_for for r in runs if r.scheduled_for) == expected
    assert {f.run_id for f in fires} == {r.id for r in runs}
    assert all(r.trigger is RunTrigger.SCHEDULE for r in runs)


def test_workers_claiming_at_once_take_each_run_once(store: ServiceStore, opener: Opener) -> None:
    many = a_job(store, "many", max_active=64)
    single = a_job(store, "single", max_active=1)
    for _ in range(24):
        store.enqueue_run(many, trigger=RunTrigger.API, at=T0)
    for _ in range(3):
        store.enqueue_run(single, trigger=RunTrigger.API, at=T0)
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        own = opener()
        try:
            barrier.wait(timeout=60)
            while (run := own.claim_next(name, lease=LEASE, now=T0)) is not None:
                with lock:
                    claimed.append((run.id, run.job_name))
        finally:
            own.close()

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [run_id for run_id, _ in claimed]
    assert len(ids) == len(set(ids))  # none twice
    assert sorted(name for _, name in claimed).count("many") == 24
    assert [name for _, name in claimed].count("single") == 1  # max_active_runs held
