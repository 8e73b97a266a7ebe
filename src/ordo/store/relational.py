"""The SQL state store, written once in SQLAlchemy Core for SQLite and PostgreSQL.

The schema comes from the migrations (``schema.py`` describes it); opening a store applies
any that are pending, so an older store file is brought up to date on first use.

Cheap by construction, since a run writes here at every step: one connection held for the
store's life (no pool checkout, no engine per event), one short transaction per call, every
statement built once at import (SQLAlchemy then reuses its compiled form), several steps
changed by one ``executemany``. ``sqlite.py`` and ``postgresql.py`` only make the engine.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from ordo.db.errors import translate
from ordo.errors import OrdoError
from ordo.masking import Masker
from ordo.migrations import MigrationValidationError, Migrator
from ordo.store import statements as st
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
    TaskStatus,
    manifest_hash,
    not_found,
    stored_utc,
    task_error_when_run_ends,
    utc,
)
from ordo.store.queue_sql import QueueTables
from ordo.store.run_pages_sql import RunPagesTables
from ordo.store.schema import HISTORY_TABLE, job_definitions, job_runs, tasks
from ordo.store.service_sql import ServiceTables

__all__ = ["SqlStore"]

_t, _r = tasks.c, job_runs.c


class SqlStore(ServiceTables, QueueTables, RunPagesTables):
    """``StateStore`` (and ``ServiceStore``: ``service_sql`` and ``queue_sql``; ``RunPages``:
    ``run_pages_sql``) on a SQLAlchemy engine; the subclass passes the engine and its folder.

    ``where`` describes the store in messages (a path, or a URL without its password);
    ``masker`` masks driver messages before they go into an error.
    """

    begin_write = "BEGIN"  # how a transaction that writes begins

    def __init__(self, engine: Engine, migrations: Path, *, where: str, masker: Masker) -> None:
        self.engine = engine
        self.where = where
        self._masker = masker
        self._lock = threading.RLock()
        self._conn: Connection | None = None
        self._batch: Connection | None = None  # the open transaction of ``batch()``
        self._deferred: list[_Deferred] = []  # its task writes, not yet sent
        self._upsert_job = st.insert_job_ignoring_duplicates(engine)
        self._migrate(migrations)

    # -- writes ---------------------------------------------------------------------------

    def record_job(
        self, name: str, path: str, definition: str, *, schedule: str | None = None
    ) -> str:
        j = job_definitions.c
        now = utc(datetime.now())
        with self._transaction(write=True) as conn:
            conn.execute(
                self._upsert_job,
                {
                    "id": str(uuid.uuid4()),
                    "name": name,
                    "path": path,
                    "definition": definition,
                    "schedule": schedule,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            row = conn.execute(
                select(j.id, j.path, j.definition, j.schedule).where(j.name == name)
            ).one()
            if schedule is None:
                schedule = row.schedule  # kept: a service job's own
            if (row.path, row.definition, row.schedule) != (path, definition, schedule):
                conn.execute(
                    update(job_definitions)
                    .where(j.id == row.id)
                    .values(path=path, definition=definition, schedule=schedule, updated_at=now)
                )
            return str(row.id)

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
        rows = [
            {
                "id": str(uuid.uuid4()),
                "job_run_id": run_id,
                "position": task.position,
                "step": task.step,
                "task_type": task.task_type,
                "unit_index": task.unit_index,
                "transaction_group": task.transaction_group,
                "status": TaskStatus.PENDING.value,
                "attempt_count": 0,
                "max_attempts": task.max_attempts,
            }
            for task in tasks
        ]
        with self._transaction(write=True) as conn:
            conn.execute(
                job_runs.insert(),
                {
                    "id": run_id,
                    "job_definition_id": job_id,
                    "status": RunState.RUNNING.value,
                    "started_at": utc(started_at),
                    "manifest_hash": manifest_hash(manifest_text),
                    "manifest_text": manifest_text,
                    "rehearsal": rehearsal,
                    "resumed_from": resumed_from,
                    "owner_host": owner.host if owner else None,
                    "owner_pid": owner.pid if owner else None,
                    "owner_started": owner.started if owner else None,
                },
            )
            if rows:
                conn.execute(st.TASKS.insert(), rows)

    def task_started(
        self, run_id: str, step: str, *, attempt: int, at: datetime, task_type: str | None = None
    ) -> None:
        params = {
            "b_run": run_id,
            "b_step": step,
            "b_attempt": attempt,
            "b_type": task_type,
            "b_at": utc(at),
        }
        self._write(st.TASK_STARTED, [params])

    def task_retrying(self, run_id: str, steps: Sequence[str]) -> None:
        self._write(st.TASK_RETRYING, [{"b_run": run_id, "b_step": s} for s in steps])

    def task_finished(self, run_id: str, outcomes: Sequence[TaskOutcome]) -> None:
        params = []
        for outcome in outcomes:
            if outcome.status not in FINISHED_TASK:
                raise ValueError(f"a finished task cannot be {outcome.status}")
            params.append(
                {
                    "b_run": run_id,
                    "b_step": outcome.step,
                    "b_status": outcome.status.value,
                    "b_at": utc(outcome.at),
                    "b_rows": outcome.rows,
                    "b_duration": outcome.duration_ms,
                    "b_error": outcome.error,
                    "b_details": None if outcome.details is None else json.dumps(outcome.details),
                }
            )
        self._write(st.TASK_FINISHED, params)

    def task_skipped(self, run_id: str, steps: Sequence[str], *, reason: str, at: datetime) -> None:
        self.task_finished(
            run_id, [TaskOutcome(step, TaskStatus.SKIPPED, at, error=reason) for step in steps]
        )

    def finish_run(
        self, run_id: str, *, status: str, at: datetime, error: str | None = None
    ) -> None:
        with self._transaction(write=True) as conn:
            self._finish(conn, run_id, RunState(status), utc(at), error)

    def mark_crashed(self, run_id: str, *, error: str) -> bool:
        with self._transaction(write=True) as conn:
            started = conn.execute(
                select(_r.started_at).where(_r.id == run_id, _r.status == RunState.RUNNING.value)
            ).scalar_one_or_none()
            if started is None:
                return False
            last = conn.execute(
                select(func.max(_t.started_at), func.max(_t.completed_at)).where(
                    _t.job_run_id == run_id
                )
            ).one()
            seen = [stored_utc(t) for t in (started, *last)]
            ended = max(t for t in seen if t is not None)  # the last the store heard of it
            self._finish(conn, run_id, RunState.CRASHED, ended, error)
            return True

    def running_runs(self, job: str) -> list[RunRecord]:
        query = st.RUNS.where(
            job_definitions.c.name == job, _r.status == RunState.RUNNING.value
        ).order_by(*st.NEWEST_FIRST)
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
            counts = self._counts(conn, [row.id for row in rows])
        return [st.run_record(row, counts.get(row.id, {})) for row in rows]

    @staticmethod
    def _finish(
        conn: Connection, run_id: str, state: RunState, when: datetime, error: str | None
    ) -> None:
        """``finish_run``'s statements, in the caller's transaction."""
        conn.execute(
            st.RUN_FINISHED,
            {"b_run": run_id, "b_status": state.value, "b_at": when, "b_error": error},
        )
        for stuck, before in (
            ([TaskStatus.PENDING.value], TaskStatus.PENDING),
            ([TaskStatus.RUNNING.value, TaskStatus.RETRYING.value], TaskStatus.RUNNING),
        ):
            after, message = task_error_when_run_ends(before, state)
            conn.execute(
                st.UNFINISHED_TASKS,
                {
                    "b_run": run_id,
                    "b_from": stuck,
                    "b_status": after.value,
                    "b_at": when,
                    "b_error": message,
                },
            )

    # -- reads ----------------------------------------------------------------------------

    def list_runs(self, limit: int = 20, job: str | None = None) -> list[RunRecord]:
        query = st.RUNS.order_by(*st.NEWEST_FIRST).limit(limit)
        if job is not None:
            query = query.where(job_definitions.c.name == job)
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
            counts = self._counts(conn, [row.id for row in rows])
        return [st.run_record(row, counts.get(row.id, {})) for row in rows]

    def get_run(self, run_id: str) -> RunDetail:
        with self._transaction(write=False) as conn:
            row = conn.execute(st.RUNS.where(_r.id == run_id)).first()
            if row is None:
                ids = conn.execute(
                    select(_r.id).where(_r.id.startswith(run_id, autoescape=True)).limit(6)
                ).scalars()
                matches = list(ids) if run_id else []
                if len(matches) != 1:
                    raise not_found(run_id, matches)
                row = conn.execute(st.RUNS.where(_r.id == matches[0])).one()
            text = conn.execute(select(_r.manifest_text).where(_r.id == row.id)).scalar_one()
            task_rows = conn.execute(
                select(tasks).where(_t.job_run_id == row.id).order_by(_t.position)
            ).all()
            counts = self._counts(conn, [row.id])
        record = st.run_record(row, counts.get(row.id, {}))
        return RunDetail(record, tuple(st.task_record(t) for t in task_rows), text)

    def last_failed_run(self, job: str) -> RunRecord | None:
        query = (
            st.RUNS.where(
                job_definitions.c.name == job,
                _r.status.in_([s.value for s in NEEDS_ATTENTION]),
                _r.rehearsal.is_(False),
            )
            .order_by(*st.NEWEST_FIRST)
            .limit(1)
        )
        with self._transaction(write=False) as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            counts = self._counts(conn, [row.id])
        return st.run_record(row, counts.get(row.id, {}))

    def close(self) -> None:
        with self._lock:
            self._close_listener()
            self._drop()
            self.engine.dispose()

    # -- plumbing -------------------------------------------------------------------------

    @staticmethod
    def _counts(conn: Connection, run_ids: list[str]) -> dict[str, dict[str, int]]:
        if not run_ids:
            return {}
        query = (
            select(_t.job_run_id, _t.status, func.count())
            .where(_t.job_run_id.in_(run_ids))
            .group_by(_t.job_run_id, _t.status)
        )
        counts: dict[str, dict[str, int]] = {}
        for run_id, status, count in conn.execute(query):
            counts.setdefault(run_id, {})[status] = int(count)
        return counts

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The writes of the block in one transaction: one commit for a batch of the recorder's
        events instead of one per event (issue 8, point 4). If anything in it fails, nothing of
        it is kept: the caller writes the batch again one by one (``StoreRecorder``)."""
        with self._transaction(write=True) as conn:
            self._batch = conn
            try:
                yield
                self._send_deferred()
            finally:
                self._batch = None
                self._deferred = []

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction on the held connection, begun and ended by hand (it autocommits
        otherwise); ``begin_write`` lets SQLite take the write lock up front. Inside
        ``batch()`` it is part of the batch's transaction."""
        with self._lock:  # taken first: a batch ending on another thread is then over
            batch = self._batch
            if batch is not None:
                self._send_deferred()  # what the block reads or writes comes after them
                yield batch
                return
        with self._connected(write=write) as conn:
            conn.exec_driver_sql(self.begin_write if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def _write(self, statement: Any, params: list[dict[str, Any]]) -> None:
        """One statement for one row commits by itself: a single round trip, no BEGIN and
        COMMIT around it. Several rows are written together, in one transaction."""
        if not params:
            return
        with self._lock:  # see _transaction: the batch is tested under the lock
            if self._batch is not None:
                self._defer(statement, params)
                return
        if len(params) == 1:
            with self._connected(write=True) as conn:
                conn.execute(statement, params[0])
        else:
            with self._transaction(write=True) as conn:
                conn.execute(statement, params)

    def _defer(self, statement: Any, params: list[dict[str, Any]]) -> None:
        """Inside ``batch()``: join the rows to the last deferred write of the same statement,
        unless a write deferred after it is about one of the same tasks (their order holds).

        A batch of a thousand steps' events then goes as a few ``executemany`` calls instead
        of two statements a step, which cost the writer thread (and so, through the GIL, the
        run) a tenth of a millisecond a step.
        """
        tasks = {(row.get("b_run"), row.get("b_step")) for row in params}
        for deferred in reversed(self._deferred):
            if deferred.statement is statement:
                deferred.params.extend(params)
                deferred.tasks |= tasks
                return
            if deferred.tasks & tasks:
                break
        self._deferred.append(_Deferred(statement, list(params), tasks))

    def _send_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        if self._batch is not None:
            for write in deferred:
                self._batch.execute(write.statement, write.params)

    @contextmanager
    def _connected(self, *, write: bool) -> Iterator[Connection]:
        """The held connection, in autocommit; a broken one is replaced on the next call."""
        with self._lock:
            try:
                if self._conn is None:
                    conn = self.engine.connect()
                    self._conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                yield self._conn
            except SQLAlchemyError as exc:
                self._drop()
                action = "write to" if write else "read"
                raise self._error(f"could not {action} the state store", exc) from exc

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except SQLAlchemyError:
                conn.invalidate()

    def _migrate(self, folder: Path) -> None:
        try:
            self._set_up(folder)
        except StoreError:
            self.engine.dispose()
            raise
        except OrdoError as exc:
            self.engine.dispose()
            raise StoreError(
                f"cannot open the state store at {self.where}: {self._masker.mask(exc.message)}",
                hint=_NEWER_HINT if isinstance(exc, MigrationValidationError) else _OPEN_HINT,
            ) from exc
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise self._error(f"cannot open the state store at {self.where}", exc) from exc

    def _set_up(self, folder: Path) -> None:
        """Create or migrate the store's tables; ``PostgresStore`` does it in a schema."""
        Migrator(self.engine, folder, table=HISTORY_TABLE, installed_by="ordo").migrate()

    def _error(self, what: str, exc: BaseException) -> StoreError:
        return StoreError(f"{what}: {translate(exc, masker=self._masker).message}", hint=_OPEN_HINT)


_NEWER_HINT = (
    "the store's schema history does not match this ordo's: it was opened by a newer ordo, "
    "or changed by hand; upgrade ordo, or set ORDO_STATE_URL to another store"
)
_OPEN_HINT = (
    "check ORDO_STATE_URL (unset, the store is .ordo/state.db in the project) and that the "
    "database is reachable and writable"
)


@dataclass
class _Deferred:
    """Rows for one statement, deferred inside ``SqlStore.batch()``; ``tasks`` they touch."""

    statement: Any
    params: list[dict[str, Any]]
    tasks: set[tuple[Any, Any]]
