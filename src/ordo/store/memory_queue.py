"""The run queue and the workers in memory: ``MemoryStore``'s part of ``RunQueue``
(``ServiceStore``'s queue).

For tests and examples in one process: workers are threads there, and a waiting one is woken
by a condition instead of LISTEN/NOTIFY. It keeps the SQL stores' rules (the contract tests
in ``tests/integration/test_service_queue.py`` run it beside them): claims oldest first,
``max_active_runs``, leases that run out, cancels, a fire and its run taken together.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ordo.store.base import TaskRecord, TaskStatus, utc
from ordo.store.jobs import job_not_found
from ordo.store.queue import (
    FINISHED,
    QueueFigures,
    RunPage,
    RunTrigger,
    ServiceRun,
    ServiceRunStatus,
    WorkerRecord,
    WorkerState,
    run_not_found,
)
from ordo.store.service import FireRecord

__all__ = ["MemoryQueue"]

_RUNNING, _PENDING = ServiceRunStatus.RUNNING, ServiceRunStatus.PENDING


class MemoryQueue:
    """The ``RunQueue`` methods; ``MemoryStore`` gives the lock, the jobs, runs and fires."""

    # ``MemoryStore``'s own (its ``_Job`` and ``_Run`` rows: not named here, which would make
    # the two modules import each other)
    _lock: threading.Lock
    _jobs: dict[str, Any]
    _runs: dict[str, Any]
    _fires: dict[tuple[str, datetime], FireRecord]

    def _init_queue(self) -> None:
        self._queue: dict[str, ServiceRun] = {}
        self._workers: dict[str, WorkerRecord] = {}
        self._changed = threading.Condition(self._lock)

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
        with self._lock:
            return self._add(
                job_id, run_id or str(uuid.uuid4()), trigger, at, params, select, scheduled_for
            )

    def enqueue_fire(
        self, job_id: str, scheduled_for: datetime, *, run_id: str, at: datetime, by: str
    ) -> bool:
        key = (job_id, utc(scheduled_for))
        with self._lock:
            if key in self._fires or self._job(job_id) is None:
                return False
            self._fires[key] = FireRecord(job_id, key[1], utc(at), by, run_id)
            self._add(job_id, run_id, RunTrigger.SCHEDULE, at, None, None, scheduled_for)
            return True

    def claim_next(self, worker: str, *, lease: timedelta, now: datetime) -> ServiceRun | None:
        now = utc(now)
        with self._lock:
            for run in sorted(self._queue.values(), key=lambda r: (r.requested_at, r.id)):
                expired = run.status is _RUNNING and _lease_over(run, now)
                if run.status is not _PENDING and not expired:
                    continue
                job = self._job(run.job_id)
                active = sum(
                    1
                    for other in self._queue.values()
                    if other.job_id == run.job_id
                    and other.id != run.id
                    and other.status is _RUNNING
                    and not _lease_over(other, now)
                )
                limit = None if job is None or job.service is None else job.service.spec
                if run.status is _PENDING and limit is not None and active >= limit.max_active_runs:
                    continue
                claimed = replace(
                    run,
                    status=_RUNNING,
                    worker_id=worker,
                    lease_until=now + lease,
                    attempts=run.attempts + 1,
                    started_at=run.started_at or now,
                    ordo_run_id=uuid.uuid4().hex,
                )
                self._queue[run.id] = claimed
                return claimed
        return None

    def heartbeat(
        self, run_id: str, worker: str, *, lease: timedelta, now: datetime
    ) -> ServiceRun | None:
        with self._lock:
            run = self._queue.get(run_id)
            if run is None or run.worker_id != worker or run.status is not _RUNNING:
                return None
            run = self._queue[run_id] = replace(run, lease_until=utc(now) + lease)
            return run

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
        with self._lock:
            run = self._queue.get(run_id)
            if run is None or run.worker_id != worker or run.status is not _RUNNING:
                return False
            self._queue[run_id] = replace(
                run,
                status=status,
                outcome=outcome,
                error=error,
                finished_at=utc(at),
                lease_until=None,
            )
            self._changed.notify_all()
            return True

    def request_cancel(self, run_id: str, *, at: datetime) -> ServiceRun:
        with self._lock:
            run = self._queue.get(run_id)
            if run is None:
                raise run_not_found(run_id)
            if run.status is _PENDING:
                run = replace(
                    run,
                    status=ServiceRunStatus.CANCELLED,
                    cancel_requested=True,
                    finished_at=utc(at),
                )
            elif run.status is _RUNNING:
                run = replace(run, cancel_requested=True)
            self._queue[run_id] = run
            return run

    def get_service_run(self, run_id: str) -> ServiceRun:
        with self._lock:
            run = self._queue.get(run_id)
        if run is None:
            raise run_not_found(run_id)
        return run

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
        with self._lock:
            found = [
                run
                for run in self._queue.values()
                if (job_id is None or run.job_id == job_id)
                and (status is None or run.status is status)
                and (since is None or run.requested_at >= utc(since))
                and (until is None or run.requested_at < utc(until))
            ]
        found.sort(key=lambda r: (r.requested_at, r.id), reverse=True)
        return RunPage(found[offset : offset + limit], len(found))

    def run_of_attempt(self, ordo_run_id: str) -> ServiceRun | None:
        with self._lock:
            return next((q for q in self._queue.values() if q.ordo_run_id == ordo_run_id), None)

    def find_task(self, task_id: str) -> tuple[ServiceRun, TaskRecord] | None:
        with self._lock:
            for run in self._runs.values():
                for task in run.tasks.values():
                    if task.id == task_id:
                        owner = next(
                            (q for q in self._queue.values() if q.ordo_run_id == run.record.id),
                            None,
                        )
                        return None if owner is None else (owner, task)
        return None

    def worker_beat(self, worker: WorkerRecord) -> None:
        with self._lock:
            known = self._workers.get(worker.id)
            started = worker.started_at if known is None else known.started_at
            self._workers[worker.id] = replace(
                worker, started_at=utc(started), last_heartbeat=utc(worker.last_heartbeat)
            )

    def list_workers(self, *, now: datetime, lost_after: timedelta) -> list[WorkerRecord]:
        lost_before = utc(now) - lost_after
        with self._lock:
            found = sorted(self._workers.values(), key=lambda w: w.id)
        return [
            replace(w, state=WorkerState.LOST) if w.last_heartbeat < lost_before else w
            for w in found
            if w.state is not WorkerState.STOPPED
        ]

    def queue_figures(self, *, now: datetime, lost_after: timedelta) -> QueueFigures:
        now = utc(now)
        with self._lock:
            queued = list(self._queue.values())
            attempts = {run.record.id: run for run in self._runs.values()}
        runs: dict[tuple[str, str], int] = {}
        run_seconds, step_seconds = [], []
        retries: dict[str, int] = {}
        rows: dict[str, int] = {}
        for run in queued:
            key = (run.job_name, run.status.value)
            runs[key] = runs.get(key, 0) + 1
            if run.status in FINISHED and run.started_at and run.finished_at:
                seconds = max((run.finished_at - run.started_at).total_seconds(), 0.0)
                run_seconds.append((run.job_name, seconds))
            attempt = attempts.get(run.ordo_run_id or "")
            for task in [] if attempt is None else attempt.tasks.values():
                done = task.status in (TaskStatus.COMPLETED, TaskStatus.FAILED)
                if task.duration_ms is not None and done:
                    step_seconds.append((run.job_name, task.duration_ms / 1000))
                name = run.job_name
                retries[name] = retries.get(name, 0) + max(task.attempt_count - 1, 0)
                rows[name] = rows.get(name, 0) + (task.rows_affected or 0)
        states: dict[str, int] = {}
        for worker in self.list_workers(now=now, lost_after=lost_after):
            states[worker.state.value] = states.get(worker.state.value, 0) + 1
        waiting = [r.scheduled_for for r in queued if r.status is _PENDING and r.scheduled_for]
        return QueueFigures(
            runs=runs,
            run_seconds=run_seconds,
            step_seconds=step_seconds,
            retries=retries,
            rows=rows,
            queue_depth=sum(1 for r in queued if r.status is _PENDING),
            workers=states,
            scheduler_lag_seconds=max((now - min(waiting)).total_seconds(), 0.0)
            if waiting
            else 0.0,
        )

    def wait_for_work(self, timeout: float) -> None:
        with self._lock:
            self._changed.wait(timeout)

    # -- with the lock held ---------------------------------------------------------------------

    def _job(self, job_id: str) -> Any:
        return next((j for j in self._jobs.values() if j.id == job_id), None)

    def _add(
        self,
        job_id: str,
        run_id: str,
        trigger: RunTrigger,
        at: datetime,
        params: dict[str, Any] | None,
        steps: list[str] | None,
        scheduled_for: datetime | None,
    ) -> ServiceRun:
        job = self._job(job_id)
        if job is None:
            raise job_not_found(job_id)
        run = ServiceRun(
            id=run_id,
            job_id=job_id,
            job_name=job.name,
            status=_PENDING,
            trigger=trigger,
            requested_at=utc(at),
            params=dict(params or {}),
            select=list(steps or []),
            scheduled_for=None if scheduled_for is None else utc(scheduled_for),
        )
        self._queue[run_id] = run
        self._changed.notify_all()
        return run


def _lease_over(run: ServiceRun, now: datetime) -> bool:
    return run.lease_until is not None and run.lease_until < now
