"""Runs a page at a time (``ordo.store.run_pages``) from the memory store and the SQL stores on
real SQLite and PostgreSQL: filters, counts, pages, newest first, and who started each run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import URL

from ordo.store.base import PlannedTask
from ordo.store.jobs import JobOrigin, JobSpec
from ordo.store.memory import MemoryStore
from ordo.store.postgresql import PostgresStore
from ordo.store.queue import RunTrigger, ServiceRunStatus
from ordo.store.relational import SqlStore
from ordo.store.run_pages import RunPages, Trigger
from ordo.store.sqlite import SqliteStore

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


Store = SqlStore | MemoryStore


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SqliteStore(tmp_path / ".ordo" / "state.db")
    else:
        url: URL = request.getfixturevalue("postgres_url")
        made = PostgresStore(url)
    yield made
    made.close()


def record(store: Store, job: str, started: datetime, status: str) -> str:
    run_id = uuid.uuid4().hex
    job_id = store.record_job(job, f"queue/{job}.yaml", "text")
    store.start_run(
        run_id,
        job_id,
        started_at=started,
        manifest_text="steps: []",
        tasks=[PlannedTask("a", 1), PlannedTask("b", 2)],
    )
    store.finish_run(run_id, status=status, at=started + timedelta(seconds=5))
    return run_id


def test_pages_are_newest_first_filtered_and_counted(store: Store) -> None:
    assert isinstance(store, RunPages)
    made = [
        record(
            store,
            "a" if i % 3 else "b",
            T0 + timedelta(minutes=i),
            "failed" if i % 2 else "success",
        )
        for i in range(30)
    ]
    first = store.page_runs(limit=10)
    assert first.total == 30
    assert [run.id for run in first.runs] == made[::-1][:10]
    assert first.runs[0].steps == 2  # counted like list_runs
    second = store.page_runs(limit=10, offset=10)
    assert [run.id for run in second.runs] == made[::-1][10:20]
    of_a = store.page_runs(job="a", limit=50)
    assert of_a.total == 20
    assert {run.job for run in of_a.runs} == {"a"}
    failed_b = store.page_runs(job="b", statuses=["failed"], limit=50)
    assert failed_b.total == 5
    assert {(run.job, run.status.value) for run in failed_b.runs} == {("b", "failed")}
    either = store.page_runs(statuses=["failed", "success"], limit=1)
    assert either.total == 30
    assert len(either.runs) == 1
    assert store.page_runs(job="nobody").total == 0
    assert store.run_job_names() == ["a", "b"]


def test_who_started_a_run_is_read_from_fires_and_the_job(store: Store) -> None:
    by_hand = record(store, "nightly", T0, "success")  # before the job existed: ordo run
    job = store.create_job(
        JobSpec(name="nightly", manifest="queue/nightly.yaml"),
        origin=JobOrigin.API,
        at=T0 + timedelta(hours=1),
    )
    asked = record(store, "nightly", T0 + timedelta(hours=2), "success")
    fired = record(store, "nightly", T0 + timedelta(hours=3), "success")
    assert store.claim_fire(job.id, T0 + timedelta(hours=3), at=T0, run_id=fired)
    page = store.page_runs(job="nightly")
    assert page.triggers == {fired: Trigger.SCHEDULE, asked: Trigger.API, by_hand: Trigger.CLI}
    assert store.trigger_of(fired) is Trigger.SCHEDULE
    assert store.trigger_of(by_hand) is Trigger.CLI
    assert store.trigger_of("no-such-run") is None


def test_an_attempt_of_a_queued_run_carries_the_queues_trigger_and_status(store: Store) -> None:
    by_hand = record(store, "nightly", T0, "success")
    job = store.create_job(
        JobSpec(name="nightly", manifest="queue/nightly.yaml"), origin=JobOrigin.API, at=T0
    )
    queued = store.enqueue_run(job.id, trigger=RunTrigger.CLI, at=T0 + timedelta(hours=1))
    claimed = store.claim_next("w1", lease=timedelta(seconds=30), now=T0 + timedelta(hours=1))
    assert claimed is not None
    assert claimed.ordo_run_id is not None
    attempt = claimed.ordo_run_id
    store.start_run(
        attempt,
        store.record_job("nightly", "queue/nightly.yaml", "text"),
        started_at=T0 + timedelta(hours=1),
        manifest_text="steps: []",
        tasks=[PlannedTask("a", 1)],
    )
    store.finish_run(attempt, status="aborted", at=T0 + timedelta(hours=2))
    store.request_cancel(queued.id, at=T0 + timedelta(hours=2))
    ended = T0 + timedelta(hours=2)
    assert store.end_service_run(queued.id, "w1", ServiceRunStatus.CANCELLED, at=ended)
    page = store.page_runs(job="nightly")
    assert page.triggers[attempt] is Trigger.CLI  # as the queue was asked, not as guessed
    assert page.queue_statuses == {attempt: "CANCELLED"}  # the run by hand is no queue's
    found = store.run_of_attempt(attempt)
    assert found is not None
    assert found.id == queued.id
    assert store.run_of_attempt(by_hand) is None
