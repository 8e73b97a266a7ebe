"""What the UI's buttons do, one small function each, and what it shows of the queue.

Cancelling, resuming, running again and triggering a job put work on ``ordo serve``'s run
queue, and the workers and the queue's depth are the queue's to tell; the queue is built
beside the UI (issue 14, items 7 to 10). Until the lead wires these functions to it after
the merge, each action raises ``QueueNeeded``, which the UI shows as a message on the page,
and ``workers``/``queue_depth`` say that nothing is known (None). The buttons, their role
rules and their CSRF tokens are real and tested now; only these bodies change.

Enabling and disabling a job needs no queue: it is an update of the job in the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ordo.errors import InvalidInput
from ordo.store.jobs import JobDefinition
from ordo.store.service import ServiceStore

__all__ = [
    "QueueNeeded",
    "WorkerView",
    "cancel_run",
    "queue_depth",
    "resume_run",
    "run_again",
    "set_job_enabled",
    "trigger_job",
    "workers",
]


class QueueNeeded(InvalidInput):
    """The action puts work on ``ordo serve``'s run queue, which this server does not have."""


@dataclass(frozen=True)
class WorkerView:
    """One worker as the workers section shows it."""

    name: str
    host: str
    pid: int
    state: str  # idle, busy, lost
    last_heartbeat: datetime | None
    current_run: str | None


def _needs_queue(what: str) -> QueueNeeded:
    return QueueNeeded(
        f"{what} needs ordo serve's run queue, and this server has none",
        hint="start the UI with `ordo serve`, which runs the queue and its workers",
    )


def cancel_run(store: ServiceStore, run_id: str, *, by: str, now: datetime) -> None:
    """Stop the running run ``run_id`` (its current unit rolls back)."""
    raise _needs_queue("cancelling a run")


def resume_run(store: ServiceStore, run_id: str, *, by: str, now: datetime) -> str:
    """Queue a run that resumes the failed run ``run_id``; returns the new run's id."""
    raise _needs_queue("resuming a run")


def run_again(store: ServiceStore, run_id: str, *, by: str, now: datetime) -> str:
    """Queue a fresh run of the job that ran ``run_id``; returns the new run's id."""
    raise _needs_queue("running a job again")


def trigger_job(
    store: ServiceStore, job: JobDefinition, params: Mapping[str, Any], *, by: str, now: datetime
) -> str:
    """Queue a run of ``job`` with ``params`` over its own; returns the new run's id."""
    raise _needs_queue("triggering a job")


def workers(store: ServiceStore, *, now: datetime) -> list[WorkerView] | None:
    """The workers with their state and current run; None while there is no queue."""
    return None


def queue_depth(store: ServiceStore) -> int | None:
    """How many runs wait in the queue; None while there is no queue."""
    return None


def set_job_enabled(
    store: ServiceStore, job_id: str, enabled: bool, *, now: datetime
) -> JobDefinition:
    """Enable or disable a job: a disabled one stops firing, and its runs stay."""
    job = store.get_job(job_id)
    if job.spec.enabled == enabled:
        return job
    return store.update_job(job.id, job.spec.model_copy(update={"enabled": enabled}), at=now)
