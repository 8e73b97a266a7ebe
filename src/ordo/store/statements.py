"""The statements the SQL store runs, built once at import, and its rows made records.

Built once because a run executes them at every step: SQLAlchemy then finds their compiled
form in its cache instead of building and compiling a new statement per event. Bind names
start with ``b_``, since a bind named like a column it sets is refused in an ``executemany``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Float,
    Integer,
    Row,
    Table,
    Text,
    bindparam,
    func,
    select,
    update,
)

from ordo.store.base import RunOwner, RunRecord, RunState, TaskRecord, TaskStatus, stored_utc
from ordo.store.schema import TIMESTAMP, job_definitions, job_runs, tasks

__all__ = [
    "NEWEST_FIRST",
    "RUNS",
    "RUN_FINISHED",
    "TASKS",
    "TASK_FINISHED",
    "TASK_RETRYING",
    "TASK_STARTED",
    "UNFINISHED_TASKS",
    "insert_ignoring_duplicates",
    "insert_job_ignoring_duplicates",
    "run_record",
    "task_record",
]

_TS = TIMESTAMP

TASKS = tasks  # ``start_run`` has a parameter called ``tasks``
_t, _r = tasks.c, job_runs.c
THIS_TASK = (_t.job_run_id == bindparam("b_run"), _t.step == bindparam("b_step"))
TASK_STARTED = (
    update(tasks)
    .where(*THIS_TASK)
    .values(
        status=TaskStatus.RUNNING.value,
        attempt_count=bindparam("b_attempt", type_=Integer),
        task_type=func.coalesce(bindparam("b_type", type_=Text), _t.task_type),
        error_message=None,
        started_at=func.coalesce(_t.started_at, bindparam("b_at", type_=_TS)),
        completed_at=None,
    )
)
TASK_RETRYING = update(tasks).where(*THIS_TASK).values(status=TaskStatus.RETRYING.value)
TASK_FINISHED = (
    update(tasks)
    .where(*THIS_TASK)
    .values(
        status=bindparam("b_status", type_=Text),
        completed_at=bindparam("b_at", type_=_TS),
        rows_affected=func.coalesce(bindparam("b_rows", type_=BigInteger), _t.rows_affected),
        duration_ms=func.coalesce(bindparam("b_duration", type_=Float), _t.duration_ms),
        error_message=func.coalesce(bindparam("b_error", type_=Text), _t.error_message),
        details=func.coalesce(bindparam("b_details", type_=Text), _t.details),
    )
)
RUN_FINISHED = (
    update(job_runs)
    .where(_r.id == bindparam("b_run"))
    .values(
        status=bindparam("b_status", type_=Text),
        completed_at=bindparam("b_at", type_=_TS),
        error_message=bindparam("b_error", type_=Text),
    )
)
UNFINISHED_TASKS = (
    update(tasks)
    .where(_t.job_run_id == bindparam("b_run"), _t.status.in_(bindparam("b_from", expanding=True)))
    .values(
        status=bindparam("b_status", type_=Text),
        completed_at=bindparam("b_at", type_=_TS),
        error_message=func.coalesce(_t.error_message, bindparam("b_error", type_=Text)),
    )
)
RUN_COLUMNS = (
    *(c for c in job_runs.c if c.name != "manifest_text"),
    job_definitions.c.name.label("job"),
    job_definitions.c.path.label("manifest_path"),
)
RUNS = select(*RUN_COLUMNS).join(job_definitions, _r.job_definition_id == job_definitions.c.id)
NEWEST_FIRST = (_r.started_at.desc(), _r.id.desc())


def insert_job_ignoring_duplicates(engine: Engine) -> Any:
    """``INSERT ... ON CONFLICT (name) DO NOTHING`` for job definitions: two runs starting a
    new job at once both succeed, and both then read the one row."""
    return insert_ignoring_duplicates(engine, job_definitions, ["name"])


def insert_ignoring_duplicates(engine: Engine, table: Table, keys: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING`` on ``table``: of callers inserting the
    same keys at once, exactly one inserts a row; the others change nothing."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # deferred: only the backend in use

        return postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    from sqlalchemy.dialects import sqlite  # deferred: only the backend in use

    return sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)


def run_record(row: Row[Any], counts: dict[str, int]) -> RunRecord:
    """A ``RUNS`` row as a record, with its tasks counted by status (``counts``)."""
    started = stored_utc(row.started_at)
    assert started is not None
    return RunRecord(
        id=row.id,
        job=row.job,
        manifest_path=row.manifest_path,
        status=RunState(row.status),
        started_at=started,
        completed_at=stored_utc(row.completed_at),
        error=row.error_message,
        manifest_hash=row.manifest_hash,
        rehearsal=bool(row.rehearsal),
        resumed_from=row.resumed_from,
        owner=(
            None
            if row.owner_host is None or row.owner_pid is None
            else RunOwner(row.owner_host, int(row.owner_pid), row.owner_started)
        ),
        steps=sum(counts.values()),
        completed=counts.get(TaskStatus.COMPLETED.value, 0),
        failed=counts.get(TaskStatus.FAILED.value, 0),
        skipped=counts.get(TaskStatus.SKIPPED.value, 0),
    )


def task_record(row: Row[Any]) -> TaskRecord:
    return TaskRecord(
        id=row.id,
        step=row.step,
        position=int(row.position),
        task_type=row.task_type,
        unit_index=row.unit_index,
        transaction_group=row.transaction_group,
        status=TaskStatus(row.status),
        attempt_count=int(row.attempt_count),
        max_attempts=row.max_attempts,
        error=row.error_message,
        rows_affected=row.rows_affected,
        duration_ms=row.duration_ms,
        started_at=stored_utc(row.started_at),
        completed_at=stored_utc(row.completed_at),
        details=json.loads(row.details) if row.details else {},
    )
