"""A state store in a dict: for unit tests, examples, and runs nobody needs to look at later.

It behaves like the SQL stores (the contract tests run it beside them, the service's and the
run pages' too) but keeps nothing once the process ends. One lock guards everything: the event
bus may call from several threads.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from ordo.store.base import (
    FINISHED_TASK,
    NEEDS_ATTENTION,
    PlannedTask,
    RunDetail,
    RunOwner,
    RunRecord,
    RunState,
    StoreError,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
    manifest_hash,
    not_found,
    task_error_when_run_ends,
    utc,
)
from ordo.store.jobs import (
    JobDefinition,
    JobOrigin,
    JobSpec,
    job_exists,
    job_has_runs,
    job_not_found,
)
from ordo.store.memory_queue import MemoryQueue
from ordo.store.run_pages import RunPage, Trigger, trigger
from ordo.store.service import FireRecord
from ordo.store.tokens import TokenRecord, token_exists

__all__ = ["MemoryStore"]


@dataclass
class _Job:
    id: str
    name: str
    path: str
    definition: str
    schedule: str | None
    created_at: datetime
    updated_at: datetime
    service: JobDefinition | None = None  # None: a row ``ordo run`` recorded, not a job


@dataclass
class _Run:
    record: RunRecord
    manifest_text: str
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    job_id: str = ""


class MemoryStore(MemoryQueue):
    """``StateStore`` in memory; ``close`` forgets nothing, so tests can read after a run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}  # by name
        self._runs: dict[str, _Run] = {}
        self._tokens: dict[str, tuple[TokenRecord, str]] = {}  # by name: the record, the hash
        self._fires: dict[tuple[str, datetime], FireRecord] = {}
        self._init_queue()

    def record_job(
        self, name: str, path: str, definition: str, *, schedule: str | None = None
    ) -> str:
        now = utc(datetime.now())
        with self._lock:
            job = self._jobs.get(name)
            if job is not None and schedule is None:
                schedule = job.schedule  # kept: a service job's own
            if job is None:
                job = _Job(str(uuid.uuid4()), name, path, definition, schedule, now, now)
                self._jobs[name] = job
            elif (job.path, job.definition, job.schedule) != (path, definition, schedule):
                job.path, job.definition, job.schedule, job.updated_at = (
                    path,
                    definition,
                    schedule,
                    now,
                )
            return job.id

    def start_run(
        self,
        run_id: str,
        job_id: str,
        *,
        started_at: datetime,
        manifest_text: str,
        tasks: Sequence[PlannedTask],
        rehearsal: bool = False,
        resumed_from: str | None = None,
        owner: RunOwner | None = None,
    ) -> None:
        with self._lock:
            job = next((j for j in self._jobs.values() if j.id == job_id), None)
            if job is None:
                raise StoreError(f"cannot start run {run_id}: no job with id {job_id}")
            if run_id in self._runs:
                raise StoreError(f"cannot start run {run_id}: it is already recorded")
            record = RunRecord(
                id=run_id,
                job=job.name,
                manifest_path=job.path,
                status=RunState.RUNNING,
                started_at=utc(started_at),
                completed_at=None,
                error=None,
                manifest_hash=manifest_hash(manifest_text),
                rehearsal=rehearsal,
                resumed_from=resumed_from,
                owner=owner,
            )
            run = _Run(record, manifest_text, job_id=job_id)
            for task in tasks:
                run.tasks[task.step] = TaskRecord(
                    id=str(uuid.uuid4()),
                    step=task.step,
                    position=task.position,
                    task_type=task.task_type,
                    unit_index=task.unit_index,
                    transaction_group=task.transaction_group,
                    status=TaskStatus.PENDING,
                    attempt_count=0,
                    max_attempts=task.max_attempts,
                    error=None,
                    rows_affected=None,
                    duration_ms=None,
                    started_at=None,
                    completed_at=None,
                )
            self._runs[run_id] = run

    def task_started(
        self, run_id: str, step: str, *, attempt: int, at: datetime, task_type: str | None = None
    ) -> None:
        with self._lock:
            task = self._task(run_id, step)
            if task is None:
                return
            self._put(
                run_id,
                replace(
                    task,
                    status=TaskStatus.RUNNING,
                    attempt_count=attempt,
                    task_type=task_type or task.task_type,
                    error=None,
                    started_at=task.started_at or utc(at),
                    completed_at=None,
                ),
            )

    def task_retrying(self, run_id: str, steps: Sequence[str]) -> None:
        with self._lock:
            for step in steps:
                task = self._task(run_id, step)
                if task is not None:
                    self._put(run_id, replace(task, status=TaskStatus.RETRYING))

    def task_finished(self, run_id: str, outcomes: Sequence[TaskOutcome]) -> None:
        with self._lock:
            for outcome in outcomes:
                if outcome.status not in FINISHED_TASK:
                    raise ValueError(f"a finished task cannot be {outcome.status}")
                task = self._task(run_id, outcome.step)
                if task is None:
                    continue
                self._put(
                    run_id,
                    replace(
                        task,
                        status=outcome.status,
                        completed_at=utc(outcome.at),
                        rows_affected=_given(outcome.rows, task.rows_affected),
                        duration_ms=_given(outcome.duration_ms, task.duration_ms),
                        error=_given(outcome.error, task.error),
                        details=task.details if outcome.details is None else dict(outcome.details),
                    ),
                )

    def task_skipped(self, run_id: str, steps: Sequence[str], *, reason: str, at: datetime) -> None:
        self.task_finished(
            run_id, [TaskOutcome(step, TaskStatus.SKIPPED, at, error=reason) for step in steps]
        )

    def mark_crashed(self, run_id: str, *, error: str) -> bool:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.record.status is not RunState.RUNNING:
                return False
            times = [run.record.started_at]
            for task in run.tasks.values():
                times += [t for t in (task.started_at, task.completed_at) if t is not None]
            self._finish(run, RunState.CRASHED, max(times), error)
            return True

    def running_runs(self, job: str) -> list[RunRecord]:
        with self._lock:
            runs = [
                r
                for r in self._runs.values()
                if r.record.job == job and r.record.status is RunState.RUNNING
            ]
            runs.sort(key=lambda r: (r.record.started_at, r.record.id), reverse=True)
            return [self._counted(run) for run in runs]

    def finish_run(
        self, run_id: str, *, status: str, at: datetime, error: str | None = None
    ) -> None:
        state = RunState(status)
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            self._finish(run, state, at, error)

    def _finish(self, run: _Run, state: RunState, at: datetime, error: str | None) -> None:
        """``finish_run``'s work, the lock held."""
        run.record = replace(run.record, status=state, completed_at=utc(at), error=error)
        for task in list(run.tasks.values()):
            if task.status in FINISHED_TASK:
                continue
            new_status, message = task_error_when_run_ends(task.status, state)
            self._put(
                run.record.id,
                replace(task, status=new_status, error=task.error or message, completed_at=utc(at)),
            )

    def list_runs(self, limit: int = 20, job: str | None = None) -> list[RunRecord]:
        with self._lock:
            runs = [r for r in self._runs.values() if job is None or r.record.job == job]
            runs.sort(key=lambda r: (r.record.started_at, r.record.id), reverse=True)
            return [self._counted(run) for run in runs[:limit]]

    def get_run(self, run_id: str) -> RunDetail:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                matches = sorted(i for i in self._runs if run_id and i.startswith(run_id))
                if len(matches) != 1:
                    raise not_found(run_id, matches)
                run = self._runs[matches[0]]
            tasks = sorted(run.tasks.values(), key=lambda t: t.position)
            return RunDetail(self._counted(run), tuple(tasks), run.manifest_text)

    def last_failed_run(self, job: str) -> RunRecord | None:
        with self._lock:
            runs = [
                r
                for r in self._runs.values()
                if r.record.job == job
                and r.record.status in NEEDS_ATTENTION
                and not r.record.rehearsal
            ]
            if not runs:
                return None
            return self._counted(max(runs, key=lambda r: (r.record.started_at, r.record.id)))

    def close(self) -> None:
        """Nothing to release."""

    # -- the service's jobs, tokens and fires (``ServiceStore``) ------------------------------

    def create_job(self, spec: JobSpec, *, origin: JobOrigin, at: datetime) -> JobDefinition:
        now = utc(at)
        with self._lock:
            row = self._jobs.get(spec.name)
            if row is not None and row.service is not None:
                raise job_exists(spec.name)
            if row is None:
                row = _Job(str(uuid.uuid4()), spec.name, spec.manifest or "", "", None, now, now)
                self._jobs[spec.name] = row
            # Created now as a job (if ``ordo run`` made the row before): a scheduler counts a
            # new job's fires from then.
            row.schedule, row.created_at, row.updated_at = spec.schedule, now, now
            row.service = JobDefinition(row.id, spec, origin, now, now)
            return row.service

    def update_job(
        self, job_id: str, spec: JobSpec, *, at: datetime, origin: JobOrigin | None = None
    ) -> JobDefinition:
        with self._lock:
            row = self._service_row(job_id, by_name=False)
            old = row.service
            assert old is not None
            clash = self._jobs.get(spec.name)
            if clash is not None and clash.id != row.id:
                raise job_exists(spec.name)
            origin = origin or old.origin
            if (old.spec, old.origin) == (spec, origin):
                return old
            del self._jobs[row.name]
            row.name, row.schedule, row.updated_at = spec.name, spec.schedule, utc(at)
            self._jobs[row.name] = row
            row.service = replace(old, spec=spec, origin=origin, updated_at=utc(at))
            return row.service

    def get_job(self, key: str) -> JobDefinition:
        with self._lock:
            service = self._service_row(key, by_name=True).service
            assert service is not None
            return service

    def list_jobs(self) -> list[JobDefinition]:
        with self._lock:
            return [row.service for _, row in sorted(self._jobs.items()) if row.service]

    def delete_job(self, job_id: str) -> None:
        with self._lock:
            row = self._service_row(job_id, by_name=False)
            runs = sum(1 for run in self._runs.values() if run.job_id == row.id)
            runs += sum(1 for run in self._queue.values() if run.job_id == row.id)
            if runs:
                raise job_has_runs(row.name, runs)
            del self._jobs[row.name]
            for key in [key for key in self._fires if key[0] == row.id]:
                del self._fires[key]

    def add_token(self, token: TokenRecord, token_hash: str) -> None:
        with self._lock:
            if token.name in self._tokens:
                raise token_exists(token.name)
            stored = replace(
                token,
                created_at=utc(token.created_at),
                expires_at=None if token.expires_at is None else utc(token.expires_at),
            )
            self._tokens[token.name] = (stored, token_hash)

    def find_token(self, token_hash: str) -> TokenRecord | None:
        with self._lock:
            return next((t for t, h in self._tokens.values() if h == token_hash), None)

    def token_used(self, token_id: str, at: datetime) -> None:
        with self._lock:
            for name, (token, hashed) in list(self._tokens.items()):
                if token.id == token_id:
                    self._tokens[name] = (replace(token, last_used_at=utc(at)), hashed)

    def list_tokens(self) -> list[TokenRecord]:
        with self._lock:
            return [token for _, (token, _) in sorted(self._tokens.items())]

    def revoke_token(self, name: str, at: datetime) -> bool:
        with self._lock:
            found = self._tokens.get(name)
            if found is None:
                return False
            token, hashed = found
            if token.revoked_at is None:
                self._tokens[name] = (replace(token, revoked_at=utc(at)), hashed)
            return True

    def claim_fire(
        self,
        job_id: str,
        scheduled_for: datetime,
        *,
        at: datetime,
        by: str | None = None,
        run_id: str | None = None,
    ) -> bool:
        key = (job_id, utc(scheduled_for))
        with self._lock:
            if key in self._fires or not any(j.id == job_id for j in self._jobs.values()):
                return False
            self._fires[key] = FireRecord(job_id, key[1], utc(at), by, run_id)
            return True

    def last_fire(self, job_id: str) -> datetime | None:
        with self._lock:
            return max((when for jid, when in self._fires if jid == job_id), default=None)

    def list_fires(self, job_id: str) -> list[FireRecord]:
        with self._lock:
            return [fire for (jid, _), fire in sorted(self._fires.items()) if jid == job_id]

    # -- runs a page at a time (``run_pages.RunPages``) --------------------------------------

    def page_runs(
        self,
        *,
        job: str | None = None,
        statuses: Sequence[str] = (),
        offset: int = 0,
        limit: int = 50,
    ) -> RunPage:
        with self._lock:
            runs = [
                r
                for r in self._runs.values()
                if (job is None or self._job_of(r).name == job)
                and (not statuses or r.record.status.value in statuses)
            ]
            runs.sort(key=lambda r: (r.record.started_at, r.record.id), reverse=True)
            shown = runs[max(offset, 0) : max(offset, 0) + max(limit, 1)]
            ids = {run.record.id for run in shown}
            return RunPage(
                runs=tuple(self._counted(run) for run in shown),
                total=len(runs),
                triggers={run.record.id: self._trigger(run) for run in shown},
                queue_statuses={
                    q.ordo_run_id: q.status.value
                    for q in self._queue.values()
                    if q.ordo_run_id in ids
                },
            )

    def trigger_of(self, run_id: str) -> Trigger | None:
        with self._lock:
            run = self._runs.get(run_id)
            return None if run is None else self._trigger(run)

    def run_job_names(self) -> list[str]:
        with self._lock:
            return sorted(self._jobs)

    # -- helpers, called with the lock held -----------------------------------------------

    def _job_of(self, run: _Run) -> _Job:
        return next(j for j in self._jobs.values() if j.id == run.job_id)

    def _trigger(self, run: _Run) -> Trigger:
        queued = next((q for q in self._queue.values() if q.ordo_run_id == run.record.id), None)
        if queued is not None:  # an attempt of a queued run: the queue knows who asked
            return Trigger(queued.trigger.value)
        fired = any(fire.run_id == run.record.id for fire in self._fires.values())
        job = self._job_of(run)
        return trigger(fired, job.service is not None and run.record.started_at >= job.created_at)

    def _service_row(self, key: str, *, by_name: bool) -> _Job:
        row = next((j for j in self._jobs.values() if j.id == key and j.service), None)
        if row is None and by_name and key in self._jobs and self._jobs[key].service:
            row = self._jobs[key]
        if row is None:
            raise job_not_found(key)
        return row

    def _task(self, run_id: str, step: str) -> TaskRecord | None:
        run = self._runs.get(run_id)
        return None if run is None else run.tasks.get(step)

    def _put(self, run_id: str, task: TaskRecord) -> None:
        self._runs[run_id].tasks[task.step] = task

    def _counted(self, run: _Run) -> RunRecord:
        job = next(j for j in self._jobs.values() if j.id == run.job_id)
        statuses = [task.status for task in run.tasks.values()]
        return replace(
            run.record,
            job=job.name,
            manifest_path=job.path,
            steps=len(statuses),
            completed=statuses.count(TaskStatus.COMPLETED),
            failed=statuses.count(TaskStatus.FAILED),
            skipped=statuses.count(TaskStatus.SKIPPED),
        )


_T = TypeVar("_T")


def _given(value: _T | None, current: _T | None) -> _T | None:
    return current if value is None else value
