"""The state store's interface: what a run store keeps, and the one protocol every store has.

A job scheduler's data model (``job_definitions``, ``job_runs``, ``tasks``) plus what ordo needs: a
task is one step of a run, with its position, its unit (index in the plan, or transaction
group), rows affected and duration; a run keeps the exact manifest text it used and its
sha256, whether it was a rehearsal and which run it resumed.

Two vocabularies, on purpose. Tasks use a scheduler's statuses (``PENDING``, ``RUNNING``,
``COMPLETED``, ``FAILED``, ``RETRYING``, ``SKIPPED``): they describe one piece of work as a
scheduler sees it. Runs keep ordo's own statuses (``success``, ``partial_success``,
``failed``, ``aborted``, ``running`` while they run, and ``crashed`` for a run whose process
ended without saying how the run ended, see ``store.owners``) instead of ``COMPLETED``
and ``FAILED``: those cannot say that a failed step was rolled back and the run carried on
(a partial success), nor that a person stopped it, and they are what ``RunResult``,
exit codes, notices and reports already say, so ``ordo runs`` and ``ordo.run()`` agree word
for word.

Every implementation (``memory``, ``sqlite``, ``postgresql``) passes the contract tests in
``tests/integration/test_store_contract.py``. Writes about a run or step the store does not
know change nothing (a store that missed a run's start must not break the rest of the run).
Error messages handed to a store must already be masked: it stores what it is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from ordo.errors import InvalidInput, OrdoError

__all__ = [
    "FINISHED_TASK",
    "NEEDS_ATTENTION",
    "PlannedTask",
    "RunDetail",
    "RunNotFound",
    "RunOwner",
    "RunRecord",
    "RunState",
    "StateStore",
    "StoreError",
    "TaskOutcome",
    "TaskRecord",
    "TaskStatus",
    "manifest_hash",
    "not_found",
    "stored_utc",
    "task_error_when_run_ends",
    "utc",
]


class TaskStatus(StrEnum):
    """A job scheduler's task statuses, plus ``SKIPPED`` for steps that did not run."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    RETRYING = "RETRYING"
    SKIPPED = "SKIPPED"


class RunState(StrEnum):
    """ordo's run statuses (``ordo.events.RunStatus``) plus ``running``; see the module doc."""

    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL_SUCCESS = "partial_success"
    FAILED = "failed"
    ABORTED = "aborted"
    CRASHED = "crashed"  # its process is gone and never recorded the end (``store.owners``)


# The outcomes ``task_finished`` accepts, and the runs ``last_failed_run`` looks for.
FINISHED_TASK = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.SKIPPED})
NEEDS_ATTENTION = (RunState.FAILED, RunState.PARTIAL_SUCCESS, RunState.ABORTED, RunState.CRASHED)


class StoreError(OrdoError):
    """The state store could not be opened, read or written (message already masked)."""


class RunNotFound(InvalidInput):
    """No run, or more than one, has the id (or id prefix) asked for: exit code 2."""


def manifest_hash(text: str) -> str:
    """The sha256 of the exact manifest text, as hex: equal hashes mean the same manifest."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is local time (the events use
    ``datetime.now()``). Stores keep UTC, so runs started in two time zones sort right."""
    return moment.astimezone(UTC)


def stored_utc(moment: datetime | None) -> datetime | None:
    """A datetime read back from a store: naive values there are UTC (SQLite keeps no zone)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class PlannedTask:
    """A step as the run starts: ``PENDING``, with what the plan knows about it."""

    step: str
    position: int  # 1-based, in plan order
    task_type: str | None = None  # the step's kind: sql, python, ...
    unit_index: int | None = None  # 1-based index of its unit in the plan
    transaction_group: str | None = None
    max_attempts: int | None = None


@dataclass(frozen=True)
class TaskOutcome:
    """How a step ended: ``COMPLETED``, ``FAILED`` or ``SKIPPED``.

    ``rows``, ``duration_ms``, ``error`` and ``details`` left as None keep what the store
    holds, so a later, less informed event (a group's failure) does not erase an earlier one's.
    ``details`` is the step's ``StepOutcome.details``: plain JSON values, already masked.
    """

    step: str
    status: TaskStatus
    at: datetime
    rows: int | None = None
    duration_ms: float | None = None
    error: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RunOwner:
    """The process a run ran in: enough to tell later, on the same machine, that it is gone.

    ``started`` identifies the process beyond its pid, which the system reuses: the boot and
    the process's start time where the system tells them (Linux), else None.
    """

    host: str
    pid: int
    started: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run as ``ordo runs`` lists it, with its steps counted by outcome."""

    id: str
    job: str
    manifest_path: str
    status: RunState
    started_at: datetime
    completed_at: datetime | None
    error: str | None
    manifest_hash: str
    rehearsal: bool
    resumed_from: str | None
    steps: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    owner: RunOwner | None = None  # None for runs recorded before ordo kept it

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; None while the run is still going."""
        if self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ISO 8601 UTC times, statuses as their strings."""
        return {
            "id": self.id,
            "pipeline": self.job,
            "manifest": self.manifest_path,
            "status": str(self.status),
            "started_at": self.started_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "duration_seconds": self.duration,
            "error": self.error,
            "manifest_hash": self.manifest_hash,
            "rehearsal": self.rehearsal,
            "resumed_from": self.resumed_from,
            "process": (
                None if self.owner is None else {"host": self.owner.host, "pid": self.owner.pid}
            ),
            "steps": {
                "total": self.steps,
                "completed": self.completed,
                "failed": self.failed,
                "skipped": self.skipped,
            },
        }


@dataclass(frozen=True)
class TaskRecord:
    """One step of a run, as the store holds it."""

    id: str
    step: str
    position: int
    task_type: str | None
    unit_index: int | None
    transaction_group: str | None
    status: TaskStatus
    attempt_count: int
    max_attempts: int | None
    error: str | None
    rows_affected: int | None
    duration_ms: float | None
    started_at: datetime | None
    completed_at: datetime | None
    details: Mapping[str, Any] = field(default_factory=dict)  # what its kind said it did

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "position": self.position,
            "type": self.task_type,
            "unit": self.unit_index,
            "transaction_group": self.transaction_group,
            "status": str(self.status),
            "attempts": self.attempt_count,
            "max_attempts": self.max_attempts,
            "duration_ms": self.duration_ms,
            "rows": self.rows_affected,
            "error": self.error,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class RunDetail:
    """A run with each of its steps in plan order and the manifest text it ran."""

    run: RunRecord
    tasks: tuple[TaskRecord, ...]
    manifest_text: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.run.as_dict(), "tasks": [task.as_dict() for task in self.tasks]}


class StateStore(Protocol):
    """Where runs and their steps are recorded. Safe to call from several threads.

    Times given may be naive (read as local time) or aware; they come back as aware UTC.
    """

    def record_job(
        self, name: str, path: str, definition: str, *, schedule: str | None = None
    ) -> str:
        """Create or update the job called ``name``; returns its id (stable across calls).
        ``schedule`` None keeps the schedule the job has (a service job's, say)."""
        ...

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
        """Record a ``running`` run and its steps, all ``PENDING``, in one transaction;
        ``owner`` is the process running it."""
        ...

    def task_started(
        self, run_id: str, step: str, *, attempt: int, at: datetime, task_type: str | None = None
    ) -> None:
        """``RUNNING`` on attempt ``attempt``; clears the previous attempt's error."""
        ...

    def task_retrying(self, run_id: str, steps: Sequence[str]) -> None:
        """``RETRYING``: the unit holding ``steps`` failed transiently and will run again."""
        ...

    def task_finished(self, run_id: str, outcomes: Sequence[TaskOutcome]) -> None:
        """Record how steps ended, all in one transaction."""
        ...

    def task_skipped(self, run_id: str, steps: Sequence[str], *, reason: str, at: datetime) -> None:
        """``SKIPPED`` with the reason kept as the step's message."""
        ...

    def finish_run(
        self, run_id: str, *, status: str, at: datetime, error: str | None = None
    ) -> None:
        """Record the run's end. Steps still ``PENDING`` become ``SKIPPED``; steps still
        ``RUNNING`` or ``RETRYING`` (an aborted run) become ``FAILED``."""
        ...

    def mark_crashed(self, run_id: str, *, error: str) -> bool:
        """Record that a ``running`` run's process is gone: ``crashed``, ended at the last
        moment the store heard of it (its newest step time, else its start), its steps as
        ``finish_run`` leaves them. False, changing nothing, if the run is not running."""
        ...

    def running_runs(self, job: str) -> list[RunRecord]:
        """The runs of ``job`` still recorded as ``running``, newest first."""
        ...

    def list_runs(self, limit: int = 20, job: str | None = None) -> list[RunRecord]:
        """The most recent runs first, of one job or of all."""
        ...

    def get_run(self, run_id: str) -> RunDetail:
        """The run with this id or unique id prefix; ``RunNotFound`` names the id otherwise."""
        ...

    def last_failed_run(self, job: str) -> RunRecord | None:
        """The newest non-rehearsal run of ``job`` that ended failed, partial_success or
        aborted (what ``ordo run --resume`` picks by default)."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


def not_found(run_id: str, matches: Sequence[str]) -> RunNotFound:
    """The error for a run id that matches no run, or several."""
    if not matches:
        return RunNotFound(
            f"no run with id '{run_id}' in the state store",
            hint="`ordo runs` lists recent runs with their ids",
        )
    shown = ", ".join(match[:12] for match in matches[:5])
    return RunNotFound(
        f"run id '{run_id}' is ambiguous: it starts {len(matches)} runs ({shown})",
        hint="give more characters of the id",
    )


def task_error_when_run_ends(status: TaskStatus, run_status: str) -> tuple[TaskStatus, str]:
    """What ``finish_run`` makes of a step that has not ended: (new status, message)."""
    if status is TaskStatus.PENDING:
        return TaskStatus.SKIPPED, f"not run: the run ended {run_status}"
    return TaskStatus.FAILED, f"did not finish: the run ended {run_status}"
