"""What the UI's buttons do, one small function each, and what it shows of the queue.

The UI's run pages are ordo runs (a queued run's attempts, or ``ordo run``'s own); the
buttons act on the service run of ``ordo serve``'s queue (``store.queue``) that the page's
run is an attempt of, through the queue's own functions, as the REST API does: a cancel is
``request_cancel``, a new run is ``trigger_run`` (checked before it is queued), and the UI
asks as the API does (trigger ``api``). A run that the queue never had (``ordo run`` at a
terminal) can be run again and resumed through the queue, as a run of its job, when its
pipeline is a service job's.

Enabling and disabling a job is an update of the job in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ordo.config import Settings
from ordo.errors import InvalidInput
from ordo.service.runs import trigger_run
from ordo.store.base import RunDetail, TaskStatus
from ordo.store.jobs import JobDefinition
from ordo.store.queue import FINISHED, RunTrigger, ServiceRun, ServiceRunStatus
from ordo.store.service import ServiceStore

__all__ = [
    "LOST_AFTER",
    "WorkerView",
    "cancel_run",
    "queue_depth",
    "queued_run",
    "resume_run",
    "run_again",
    "set_job_enabled",
    "trigger_job",
    "workers",
]

LOST_AFTER = timedelta(seconds=15)  # as the API's: a worker this long without a beat is lost


@dataclass(frozen=True)
class WorkerView:
    """One worker as the workers section shows it."""

    name: str
    host: str
    pid: int
    state: str  # idle, busy, lost
    last_heartbeat: datetime | None
    current_run: str | None


def queued_run(store: ServiceStore, run_id: str) -> ServiceRun | None:
    """The queue's run that ``run_id`` names: a service run's id, or an attempt's (an ordo
    run's) id; None when the queue has neither."""
    try:
        return store.get_service_run(run_id)
    except InvalidInput:
        return store.run_of_attempt(run_id)


def cancel_run(store: ServiceStore, run_id: str, *, by: str, now: datetime) -> str:
    """Ask the queue to cancel the run: a queued one ends ``CANCELLED`` at once, a running one
    at its worker's next heartbeat (its current unit rolls back). Returns the run shown."""
    queued = queued_run(store, run_id)
    if queued is None:
        raise InvalidInput(
            "this run was started with `ordo run`, not by ordo serve's queue: the UI cannot "
            "stop it",
            hint="press Ctrl-C where it runs; its current unit rolls back",
        )
    if queued.status in FINISHED:
        raise InvalidInput(
            f"this run has ended ({queued.status.value.lower()}): there is nothing to cancel",
            hint="run it again with the Run again button",
        )
    store.request_cancel(queued.id, at=now)
    return run_id


def resume_run(
    store: ServiceStore, run_id: str, settings: Settings, *, by: str, now: datetime
) -> str:
    """Queue a run that resumes the failed run ``run_id``, as ``ordo run --resume`` does: the
    steps that did not complete, with the failed run's params. The API has no resume, and the
    worker resumes only an attempt that was killed (the ledger of an attempt that ended is
    forgotten), so this is a new run of the job whose select is those steps. Returns the new
    run's id."""
    detail, queued = _attempt(store, run_id)
    steps = [t.step for t in detail.tasks if t.status is not TaskStatus.COMPLETED]
    if not steps:
        raise InvalidInput(
            "every step of this run completed: there is nothing to resume",
            hint="run it again with the Run again button",
        )
    job = _job_of(store, queued, detail.run.job)
    params = dict(queued.params) if queued is not None else {}
    return _queue(store, job, settings, params, steps, now)


def run_again(
    store: ServiceStore, run_id: str, settings: Settings, *, by: str, now: datetime
) -> str:
    """Queue a fresh run of the job that ran ``run_id``, with that run's params and select;
    returns the new run's id."""
    detail, queued = _attempt(store, run_id)
    job = _job_of(store, queued, detail.run.job)
    params = dict(queued.params) if queued is not None else {}
    steps = list(queued.select) if queued is not None else []
    return _queue(store, job, settings, params, steps, now)


def trigger_job(
    store: ServiceStore,
    job: JobDefinition,
    params: Mapping[str, Any],
    settings: Settings,
    *,
    by: str,
    now: datetime,
) -> str:
    """Queue a run of ``job`` with ``params`` over its own; returns the new run's id."""
    return _queue(store, job, settings, dict(params), [], now)


def workers(store: ServiceStore, *, now: datetime) -> list[WorkerView]:
    """The workers with their state and current run (``lost`` when their beats stopped)."""
    return [
        WorkerView(
            name=w.id,
            host=w.host,
            pid=w.pid,
            state=w.state.value,
            last_heartbeat=w.last_heartbeat,
            current_run=w.current_run,
        )
        for w in store.list_workers(now=now, lost_after=LOST_AFTER)
    ]


def queue_depth(store: ServiceStore) -> int:
    """How many runs wait in the queue for a worker."""
    return store.list_service_runs(status=ServiceRunStatus.PENDING, limit=1).total


def set_job_enabled(
    store: ServiceStore, job_id: str, enabled: bool, *, now: datetime
) -> JobDefinition:
    """Enable or disable a job: a disabled one stops firing, and its runs stay."""
    job = store.get_job(job_id)
    if job.spec.enabled == enabled:
        return job
    return store.update_job(job.id, job.spec.model_copy(update={"enabled": enabled}), at=now)


def _attempt(store: ServiceStore, run_id: str) -> tuple[RunDetail, ServiceRun | None]:
    """The ordo run that ``run_id`` names (a queued run's id names its latest attempt) and
    the queued run it is an attempt of, if any; ``RunNotFound`` when there is no such run."""
    queued = queued_run(store, run_id)
    if queued is not None and queued.ordo_run_id is not None:
        return store.get_run(queued.ordo_run_id), queued
    return store.get_run(run_id), queued


def _job_of(store: ServiceStore, queued: ServiceRun | None, pipeline: str) -> JobDefinition:
    if queued is not None:
        return store.get_job(queued.job_id)
    for job in store.list_jobs():
        if job.name == pipeline:
            return job
    raise InvalidInput(
        f"no job of ordo serve runs the pipeline '{pipeline}'",
        hint="add it to the jobs of ordo.yaml, or run it again with `ordo run`",
    )


def _queue(
    store: ServiceStore,
    job: JobDefinition,
    settings: Settings,
    params: dict[str, Any],
    steps: list[str],
    now: datetime,
) -> str:
    run = trigger_run(
        store,
        job.id,
        settings,
        now=now,
        trigger=RunTrigger.API,
        params=params,
        select=steps,
    )
    return run.id
