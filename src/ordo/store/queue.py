"""The service's run queue and its workers, as a store keeps them (issue 14).

A triggered or scheduled run is a ``PENDING`` row; a worker claims it with a lease that its
heartbeats extend. A lease that runs out (the worker was killed, its machine stopped) makes
the run claimable again, and the next worker resumes it: each attempt is an ordo run whose
ledger is keyed by the service run's id, so what an earlier attempt committed is skipped.

The statuses are a scheduler's (``PENDING``, ``RUNNING``, ``COMPLETED``, ``FAILED``,
``CANCELLED``); ordo's own outcome (``success``, ``partial_success``, ...) is kept beside
them, since ``COMPLETED`` cannot say that a failed step was rolled back and the run went on.

``RunQueue`` is the queue's part of the ``ServiceStore`` protocol (``store.service``), which
every store of the service implements: the SQL stores (``queue_sql``) and the memory store
(``memory_queue``, for tests in one process; workers in other processes need a database).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from ordo.errors import InvalidInput
from ordo.store.base import StateStore, TaskRecord

__all__ = [
    "FINISHED",
    "QueueFigures",
    "RunPage",
    "RunQueue",
    "RunTrigger",
    "ServiceRun",
    "ServiceRunNotFound",
    "ServiceRunStatus",
    "WorkerRecord",
    "WorkerState",
    "run_not_found",
]


class ServiceRunStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


FINISHED = frozenset(
    {ServiceRunStatus.COMPLETED, ServiceRunStatus.FAILED, ServiceRunStatus.CANCELLED}
)


class RunTrigger(StrEnum):
    """What asked for a run."""

    SCHEDULE = "schedule"
    API = "api"
    CLI = "cli"


class WorkerState(StrEnum):
    IDLE = "idle"
    BUSY = "busy"
    STOPPED = "stopped"
    LOST = "lost"  # never stored: shown for a worker whose heartbeats stopped


@dataclass(frozen=True)
class ServiceRun:
    """One queued run of a job and where it is."""

    id: str
    job_id: str
    job_name: str
    status: ServiceRunStatus
    trigger: RunTrigger
    requested_at: datetime
    params: dict[str, Any] = field(default_factory=dict)
    select: list[str] = field(default_factory=list)
    outcome: str | None = None
    scheduled_for: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    worker_id: str | None = None
    lease_until: datetime | None = None
    cancel_requested: bool = False
    ordo_run_id: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, times in ISO 8601 UTC, under the job scheduler's names
        (``job_definition_id``, ``completed_at``, ``error_message``)."""

        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat()

        return {
            "id": self.id,
            "job_definition_id": self.job_id,
            "job_name": self.job_name,
            "status": str(self.status),
            "outcome": self.outcome,
            "trigger": str(self.trigger),
            "params": self.params,
            "select": self.select,
            "scheduled_for": iso(self.scheduled_for),
            "requested_at": iso(self.requested_at),
            "started_at": iso(self.started_at),
            "completed_at": iso(self.finished_at),
            "error_message": self.error,
            "attempts": self.attempts,
            "worker_id": self.worker_id,
            "cancel_requested": self.cancel_requested,
            "ordo_run_id": self.ordo_run_id,
        }


@dataclass(frozen=True)
class RunPage:
    """One page of runs, newest first, and how many match in all."""

    runs: list[ServiceRun]
    total: int


@dataclass(frozen=True)
class WorkerRecord:
    """A worker process; ``state`` is ``lost`` when read after its heartbeats stopped."""

    id: str
    host: str
    pid: int
    state: WorkerState
    started_at: datetime
    last_heartbeat: datetime
    current_run: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "state": str(self.state),
            "started_at": self.started_at.isoformat(),
            "last_heartbeat": self.last_heartbeat.isoformat(),
            "current_run": self.current_run,
        }


@dataclass(frozen=True)
class QueueFigures:
    """What ``/metrics`` reports, read from the store so every replica says the same."""

    runs: dict[tuple[str, str], int]  # (job name, status): count
    run_seconds: list[tuple[str, float]]  # (job name, seconds) of finished runs
    step_seconds: list[tuple[str, float]]  # (job name, seconds) of finished steps
    retries: dict[str, int]  # job name: attempts past the first, over its steps
    rows: dict[str, int]  # job name: rows written
    queue_depth: int
    workers: dict[str, int]  # state: count
    scheduler_lag_seconds: float  # the oldest pending scheduled run's wait, 0 if none


class ServiceRunNotFound(InvalidInput):
    """No queued run has the id (the API's 404)."""


def run_not_found(run_id: str) -> ServiceRunNotFound:
    return ServiceRunNotFound(
        f"no run '{run_id}' in the service's queue", hint="GET /job_runs lists the runs"
    )


@runtime_checkable
class RunQueue(StateStore, Protocol):
    """The run queue and the workers, as a ``ServiceStore`` keeps them.

    Every method takes the clock (``at``/``now``): none reads it itself, so tests move time.
    """

    def enqueue_run(
        self,
        job_id: str,
        *,
        trigger: RunTrigger,
        at: datetime,
        params: dict[str, Any] | None = None,
        select: list[str] | None = None,
        run_id: str | None = None,
        scheduled_for: datetime | None = None,
    ) -> ServiceRun:
        """A new ``PENDING`` run of the job (``JobNotFound`` if there is none)."""
        ...

    def enqueue_fire(
        self, job_id: str, scheduled_for: datetime, *, run_id: str, at: datetime, by: str
    ) -> bool:
        """Claim a schedule's fire and queue its run in one transaction: True for the one
        caller that wins it (as ``ServiceStore.claim_fire``), and then the run is there."""
        ...

    def claim_next(self, worker: str, *, lease: timedelta, now: datetime) -> ServiceRun | None:
        """The oldest claimable run, now ``RUNNING`` for ``worker`` until ``now + lease``:
        a ``PENDING`` run whose job has fewer active runs than its ``max_active_runs``, or a
        ``RUNNING`` one whose lease ran out (resumed). Its ``attempts`` counts this claim and
        ``ordo_run_id`` is the new attempt's run id. None when there is nothing to do."""
        ...

    def heartbeat(
        self, run_id: str, worker: str, *, lease: timedelta, now: datetime
    ) -> ServiceRun | None:
        """Extend the worker's lease on the run; the run as it stands (its
        ``cancel_requested``), or None when the worker no longer holds it."""
        ...

    def end_service_run(
        self,
        run_id: str,
        worker: str,
        status: ServiceRunStatus,
        *,
        at: datetime,
        outcome: str | None = None,
        error: str | None = None,
    ) -> bool:
        """End a run the worker holds; False (nothing changed) when it holds it no more."""
        ...

    def request_cancel(self, run_id: str, *, at: datetime) -> ServiceRun:
        """A pending run is ``CANCELLED`` at once; a running one is asked to stop (its worker
        sees it at its next heartbeat); a finished one is left as it is."""
        ...

    def get_service_run(self, run_id: str) -> ServiceRun:
        """The run with this id; ``ServiceRunNotFound`` otherwise."""
        ...

    def list_service_runs(
        self,
        *,
        job_id: str | None = None,
        status: ServiceRunStatus | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> RunPage:
        """Runs requested in [since, until), newest first."""
        ...

    def run_of_attempt(self, ordo_run_id: str) -> ServiceRun | None:
        """The service run whose attempt is the ordo run ``ordo_run_id``; None for a run of
        no service run (``ordo run``'s own) or one superseded by a later attempt."""
        ...

    def find_task(self, task_id: str) -> tuple[ServiceRun, TaskRecord] | None:
        """The task with this id and the service run whose attempt it is part of; None for
        a task of no service run (``ordo run``'s own)."""
        ...

    def worker_beat(self, worker: WorkerRecord) -> None:
        """Record the worker's state and heartbeat (inserting its row the first time)."""
        ...

    def list_workers(self, *, now: datetime, lost_after: timedelta) -> list[WorkerRecord]:
        """Every worker not stopped, by id; one whose last heartbeat is older than
        ``lost_after`` is ``lost``."""
        ...

    def queue_figures(self, *, now: datetime, lost_after: timedelta) -> QueueFigures:
        """The figures ``/metrics`` reports."""
        ...

    def wait_for_work(self, timeout: float) -> None:
        """Return when a run may have been queued, or after ``timeout`` seconds
        (PostgreSQL: LISTEN/NOTIFY; SQLite: the timeout, a poll)."""
        ...
