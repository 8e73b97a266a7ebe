"""``RunQueue`` for the SQL stores: the run queue and the workers in SQLAlchemy Core.

A mixin of ``SqlStore`` like ``service_sql``. Claims are safe however many workers ask at
once: on PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED`` (two workers
never wait on, nor take, the same run) and the job's row with ``FOR UPDATE`` while its active
runs are counted, so ``max_active_runs`` holds between two claims of one job; SQLite has one
writer at a time (``BEGIN IMMEDIATE``), which serialises the same steps.

A new run on PostgreSQL sends ``NOTIFY`` in its transaction: waiting workers wake when it
commits (``wait_for_work``), and poll as a fallback.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import select as selector
import time
import uuid
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ordo.store.base import TaskRecord, TaskStatus, stored_utc, utc
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
from ordo.store.schema import (
    job_definitions,
    job_runs,
    schedule_fires,
    service_runs,
    tasks,
    workers,
)
from ordo.store.statements import insert_ignoring_duplicates, task_record

__all__ = ["QueueTables"]

_q, _j, _w = service_runs.c, job_definitions.c, workers.c
_RUNNING = ServiceRunStatus.RUNNING.value
_PENDING = ServiceRunStatus.PENDING.value
_ROWS = select(service_runs, _j.name.label("job_name")).join(
    job_definitions, _j.id == _q.job_definition_id
)


class QueueTables:
    """The ``RunQueue`` methods; ``SqlStore`` gives the engine and the transactions."""

    engine: Engine
    schema: str = ""
    _fire_claim: Any = None
    _listener: Any = None

    def _transaction(self, *, write: bool) -> AbstractContextManager[Connection]:
        raise NotImplementedError  # SqlStore's

    # -- the queue ----------------------------------------------------------------------------

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
        run_id = run_id or str(uuid.uuid4())
        with self._transaction(write=True) as conn:
            self._insert_run(conn, job_id, run_id, trigger, at, params, select, scheduled_for)
        return self.get_service_run(run_id)

    def enqueue_fire(
        self, job_id: str, scheduled_for: datetime, *, run_id: str, at: datetime, by: str
    ) -> bool:
        if self._fire_claim is None:
            self._fire_claim = insert_ignoring_duplicates(
                self.engine, schedule_fires, ["job_definition_id", "scheduled_for"]
            ).returning(schedule_fires.c.job_definition_id)
        with self._transaction(write=True) as conn:
            won = conn.execute(
                self._fire_claim,
                {
                    "job_definition_id": job_id,
                    "scheduled_for": utc(scheduled_for),
                    "claimed_at": utc(at),
                    "claimed_by": by,
                    "job_run_id": run_id,
                },
            ).first()
            if won is None:
                return False
            self._insert_run(
                conn, job_id, run_id, RunTrigger.SCHEDULE, at, None, None, scheduled_for
            )
            return True

    def _insert_run(
        self,
        conn: Connection,
        job_id: str,
        run_id: str,
        trigger: RunTrigger,
        at: datetime,
        params: dict[str, Any] | None,
        steps: list[str] | None,
        scheduled_for: datetime | None,
    ) -> None:
        if conn.execute(select(_j.id).where(_j.id == job_id)).first() is None:
            raise job_not_found(job_id)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")
        conn.execute(
            insert(service_runs).values(
                id=run_id,
                job_definition_id=job_id,
                status=_PENDING,
                trigger=trigger.value,
                params=json.dumps(params or {}, sort_keys=True),
                select_steps=json.dumps(steps or []),
                scheduled_for=None if scheduled_for is None else utc(scheduled_for),
                requested_at=utc(at),
                attempts=0,
                cancel_requested=False,
            )
        )
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"NOTIFY {self._channel()}")

    def claim_next(self, worker: str, *, lease: timedelta, now: datetime) -> ServiceRun | None:
        now = utc(now)
        skipped: set[str] = set()  # jobs at their max_active_runs
        postgres = self.engine.dialect.name == "postgresql"
        for _ in range(20):
            with self._transaction(write=True) as conn:
                claimable = or_(
                    _q.status == _PENDING, and_(_q.status == _RUNNING, _q.lease_until < now)
                )
                query = select(_q.id, _q.job_definition_id, _q.status).where(claimable)
                if skipped:
                    query = query.where(_q.job_definition_id.not_in(skipped))
                query = query.order_by(_q.requested_at, _q.id).limit(1)
                if postgres:
                    query = query.with_for_update(skip_locked=True)
                row = conn.execute(query).first()
                if row is None:
                    return None
                job = select(_j.max_active_runs).where(_j.id == row.job_definition_id)
                if postgres:
                    job = job.with_for_update()
                limit = int(conn.execute(job).scalar_one())
                active = conn.execute(
                    select(func.count()).where(
                        _q.job_definition_id == row.job_definition_id,
                        _q.status == _RUNNING,
                        _q.lease_until >= now,
                        _q.id != row.id,
                    )
                ).scalar_one()
                if row.status == _PENDING and active >= limit:
                    skipped.add(row.job_definition_id)
                    continue
                conn.execute(
                    update(service_runs)
                    .where(_q.id == row.id)
                    .values(
                        status=_RUNNING,
                        worker_id=worker,
                        lease_until=now + lease,
                        attempts=_q.attempts + 1,
                        started_at=func.coalesce(_q.started_at, now),
                        ordo_run_id=uuid.uuid4().hex,
                    )
                )
                claimed = str(row.id)
            return self.get_service_run(claimed)
        return None

    def heartbeat(
        self, run_id: str, worker: str, *, lease: timedelta, now: datetime
    ) -> ServiceRun | None:
        with self._transaction(write=True) as conn:
            done = conn.execute(
                update(service_runs)
                .where(_q.id == run_id, _q.worker_id == worker, _q.status == _RUNNING)
                .values(lease_until=utc(now) + lease)
            )
            if not done.rowcount:
                return None
        return self.get_service_run(run_id)

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
        with self._transaction(write=True) as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO on")
            done = conn.execute(
                update(service_runs)
                .where(_q.id == run_id, _q.worker_id == worker, _q.status == _RUNNING)
                .values(
                    status=status.value,
                    outcome=outcome,
                    error_message=error,
                    finished_at=utc(at),
                    lease_until=None,
                )
            )
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"NOTIFY {self._channel()}")  # a slot may be free now
            return bool(done.rowcount)

    def request_cancel(self, run_id: str, *, at: datetime) -> ServiceRun:
        with self._transaction(write=True) as conn:
            conn.execute(
                update(service_runs)
                .where(_q.id == run_id, _q.status == _PENDING)
                .values(
                    status=ServiceRunStatus.CANCELLED.value,
                    cancel_requested=True,
                    finished_at=utc(at),
                )
            )
            conn.execute(
                update(service_runs)
                .where(_q.id == run_id, _q.status == _RUNNING)
                .values(cancel_requested=True)
            )
        return self.get_service_run(run_id)

    def get_service_run(self, run_id: str) -> ServiceRun:
        with self._transaction(write=False) as conn:
            row = conn.execute(_ROWS.where(_q.id == run_id)).first()
        if row is None:
            raise run_not_found(run_id)
        return _run(row)

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
        where = []
        if job_id is not None:
            where.append(_q.job_definition_id == job_id)
        if status is not None:
            where.append(_q.status == status.value)
        if since is not None:
            where.append(_q.requested_at >= utc(since))
        if until is not None:
            where.append(_q.requested_at < utc(until))
        query = _ROWS.where(*where).order_by(_q.requested_at.desc(), _q.id.desc())
        with self._transaction(write=False) as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).all()
            total = conn.execute(
                select(func.count()).select_from(service_runs).where(*where)
            ).scalar_one()
        return RunPage([_run(row) for row in rows], int(total))

    def run_of_attempt(self, ordo_run_id: str) -> ServiceRun | None:
        with self._transaction(write=False) as conn:
            row = conn.execute(_ROWS.where(_q.ordo_run_id == ordo_run_id)).first()
        return None if row is None else _run(row)

    def find_task(self, task_id: str) -> tuple[ServiceRun, TaskRecord] | None:
        """The task with this id and the service run whose attempt it is part of."""
        with self._transaction(write=False) as conn:
            row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
            owner = None
            if row is not None:
                owner = conn.execute(_ROWS.where(_q.ordo_run_id == row.job_run_id)).first()
        if row is None or owner is None:
            return None
        return _run(owner), task_record(row)

    # -- workers ------------------------------------------------------------------------------

    def worker_beat(self, worker: WorkerRecord) -> None:
        values = {
            "state": worker.state.value,
            "last_heartbeat": utc(worker.last_heartbeat),
            "current_run": worker.current_run,
        }
        with self._transaction(write=True) as conn:
            done = conn.execute(update(workers).where(_w.id == worker.id).values(**values))
            if not done.rowcount:
                conn.execute(
                    insert(workers).values(
                        id=worker.id,
                        host=worker.host,
                        pid=worker.pid,
                        started_at=utc(worker.started_at),
                        **values,
                    )
                )

    def list_workers(self, *, now: datetime, lost_after: timedelta) -> list[WorkerRecord]:
        query = select(workers).where(_w.state != WorkerState.STOPPED.value).order_by(_w.id)
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
        return [_worker(row, utc(now) - lost_after) for row in rows]

    # -- figures ------------------------------------------------------------------------------

    def queue_figures(self, *, now: datetime, lost_after: timedelta) -> QueueFigures:
        now = utc(now)
        _t, _r = tasks.c, job_runs.c
        with self._transaction(write=False) as conn:
            counts = conn.execute(
                select(_j.name, _q.status, func.count())
                .join(job_definitions, _j.id == _q.job_definition_id)
                .group_by(_j.name, _q.status)
            ).all()
            finished = conn.execute(
                select(_j.name, _q.started_at, _q.finished_at)
                .join(job_definitions, _j.id == _q.job_definition_id)
                .where(_q.status.in_([s.value for s in FINISHED]), _q.started_at.is_not(None))
            ).all()
            steps = conn.execute(
                select(_j.name, _t.duration_ms, _t.attempt_count, _t.rows_affected, _t.status)
                .select_from(service_runs)
                .join(job_definitions, _j.id == _q.job_definition_id)
                .join(tasks, _t.job_run_id == _q.ordo_run_id)
            ).all()
            oldest = conn.execute(
                select(func.min(_q.scheduled_for)).where(
                    _q.status == _PENDING, _q.scheduled_for.is_not(None)
                )
            ).scalar_one_or_none()
        run_seconds = []
        for name, started, ended in finished:
            begin, end = stored_utc(started), stored_utc(ended)
            if begin is not None and end is not None:
                run_seconds.append((str(name), max((end - begin).total_seconds(), 0.0)))
        step_seconds: list[tuple[str, float]] = []
        retries: dict[str, int] = {}
        rows: dict[str, int] = {}
        for name, duration, attempts, written, status in steps:
            if duration is not None and status in (TaskStatus.COMPLETED, TaskStatus.FAILED):
                step_seconds.append((str(name), float(duration) / 1000))
            retries[name] = retries.get(name, 0) + max(int(attempts or 0) - 1, 0)
            rows[name] = rows.get(name, 0) + int(written or 0)
        states: dict[str, int] = {}
        for found in self.list_workers(now=now, lost_after=lost_after):
            states[found.state.value] = states.get(found.state.value, 0) + 1
        first = stored_utc(oldest)
        return QueueFigures(
            runs={(str(n), str(s)): int(c) for n, s, c in counts},
            run_seconds=run_seconds,
            step_seconds=step_seconds,
            retries=retries,
            rows=rows,
            queue_depth=sum(int(c) for _n, s, c in counts if s == _PENDING),
            workers=states,
            scheduler_lag_seconds=0.0 if first is None else max((now - first).total_seconds(), 0),
        )

    # -- waking up ----------------------------------------------------------------------------

    def wait_for_work(self, timeout: float) -> None:
        if self.engine.dialect.name != "postgresql":
            time.sleep(timeout)
            return
        import psycopg  # deferred: the PostgreSQL store's driver, loaded already

        try:
            if self._listener is None:
                raw = self.engine.raw_connection()
                raw.driver_connection.autocommit = True  # type: ignore[union-attr]
                raw.cursor().execute(f"LISTEN {self._channel()}")
                self._listener = raw
            driver = self._listener.driver_connection
            ready, _, _ = selector.select([driver.fileno()], [], [], timeout)
            if ready:
                for _note in driver.notifies(timeout=0, stop_after=100):
                    pass
        except (SQLAlchemyError, OSError, ValueError, psycopg.Error):
            # The server went away: wait as a poll would, and listen anew next time.
            self._close_listener()
            time.sleep(timeout)

    def _channel(self) -> str:
        """One channel per store schema: two stores in one database do not wake each other."""
        digest = hashlib.sha256((self.schema or "public").encode()).hexdigest()[:16]
        return f"ordo_runs_{digest}"

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):  # a connection already broken
                listener.close()


def _run(row: Any) -> ServiceRun:
    return ServiceRun(
        id=row.id,
        job_id=row.job_definition_id,
        job_name=row.job_name,
        status=ServiceRunStatus(row.status),
        trigger=RunTrigger(row.trigger),
        requested_at=_at(row.requested_at),
        params=json.loads(row.params) if row.params else {},
        select=json.loads(row.select_steps) if row.select_steps else [],
        outcome=row.outcome,
        scheduled_for=stored_utc(row.scheduled_for),
        started_at=stored_utc(row.started_at),
        finished_at=stored_utc(row.finished_at),
        attempts=int(row.attempts),
        worker_id=row.worker_id,
        lease_until=stored_utc(row.lease_until),
        cancel_requested=bool(row.cancel_requested),
        ordo_run_id=row.ordo_run_id,
        error=row.error_message,
    )


def _worker(row: Any, lost_before: datetime) -> WorkerRecord:
    beat = _at(row.last_heartbeat)
    state = WorkerState(row.state)
    return WorkerRecord(
        id=row.id,
        host=row.host,
        pid=int(row.pid),
        state=WorkerState.LOST if beat < lost_before else state,
        started_at=_at(row.started_at),
        last_heartbeat=beat,
        current_run=row.current_run,
    )


def _at(moment: datetime) -> datetime:
    found = stored_utc(moment)
    assert found is not None  # a NOT NULL column
    return found
