"""Facts about a run, and the interface of everything that reacts to them.

The runner emits events and knows nothing about who listens. Console output, the log file,
manifest state, notifiers and (later) the state store and metrics are subscribers. A subscriber
must not change what runs; one that is allowed to fail quietly (a notifier) catches its own
errors, one that must not (manifest state) lets them propagate and so stops the run.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeAlias

from ordo.errors import ErrorKind

__all__ = [
    "Event",
    "EventBus",
    "RollbackFinished",
    "RollbackStarted",
    "RunFinished",
    "RunStarted",
    "RunStatus",
    "StepFailed",
    "StepOutput",
    "StepSkipped",
    "StepStarted",
    "StepSucceeded",
    "Subscriber",
    "UnitCommitted",
    "UnitFailed",
    "UnitRetrying",
    "UnitStarted",
]


class RunStatus(StrEnum):
    SUCCESS = "success"
    PARTIAL_SUCCESS = "partial_success"
    FAILED = "failed"
    ABORTED = "aborted"


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    pipeline: str
    manifest: Path
    steps: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class UnitStarted:
    run_id: str
    steps: tuple[str, ...]
    group: str | None
    connection: str | None
    attempt: int


@dataclass(frozen=True)
class StepStarted:
    """A step starts; ``attempt`` 0 means it does not run: the ledger says an earlier,
    interrupted run committed it (``StepSucceeded`` follows with attempt 0 too)."""

    run_id: str
    step: str
    kind: str
    attempt: int
    index: int
    total: int


@dataclass(frozen=True)
class StepOutput:
    """What a step printed (a python script's output), or a ``notice`` its database sent
    (PostgreSQL's ``RAISE NOTICE``: in the log, and on the console only when verbose).

    ``line`` is one line, or several joined by ``\n`` when a process printed them at once
    (its output is read in blocks: an event per line made a million-line script take
    minutes).
    """

    run_id: str
    step: str
    line: str
    notice: bool = False


@dataclass(frozen=True)
class StepSucceeded:
    """The step's statement finished; its work is committed only when ``UnitCommitted`` says so."""

    run_id: str
    step: str
    kind: str
    attempt: int
    duration: float
    rows: int | None
    notify: bool
    output_file: Path | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # ``StepOutcome.details``
    warnings: tuple[str, ...] = ()  # ``StepOutcome.warnings``, masked


@dataclass(frozen=True)
class StepFailed:
    """A step's attempt failed; ``error_kind`` says how, from the error's type, not its text."""

    run_id: str
    step: str
    kind: str
    attempt: int
    duration: float
    error: str
    error_kind: ErrorKind
    details: Mapping[str, Any] = field(default_factory=dict)  # ``ExecutionError.details``

    @property
    def transient(self) -> bool:
        """Whether retrying may help (the unit is retried if it has attempts left)."""
        return self.error_kind is ErrorKind.TRANSIENT


@dataclass(frozen=True)
class UnitRetrying:
    run_id: str
    steps: tuple[str, ...]
    attempt: int
    next_attempt: int
    delay: float
    error: str


@dataclass(frozen=True)
class UnitCommitted:
    """All of the unit's work is committed: its steps are done.

    In a rehearsal (``rehearsal=True``) the unit succeeded inside the rehearsal's transaction,
    which is rolled back at the end: nothing is done, and the manifest must not say so.
    ``committed_by`` names the earlier run whose transaction committed the work, when the
    ledger said so and this run only records it (``None``: this run committed it).
    """

    run_id: str
    steps: tuple[str, ...]
    at: datetime
    rehearsal: bool = False
    committed_by: str | None = None


@dataclass(frozen=True)
class UnitFailed:
    """The unit failed for good (after its retries).

    ``steps`` are those that were not committed. Where DDL commits on its own (MySQL,
    MariaDB, Oracle) part of a group may be: ``committed`` names those steps (a
    ``UnitCommitted`` said so before), ``uncertain`` the steps before a failing DDL step,
    which the database may have committed as it began that statement. ``transactional``
    says whether the unit's work ran in a transaction that was rolled back: not for a unit
    that is not transactional (a python step, a ``transaction: false`` step), nor for one
    that never got a connection. ``rolled_back`` is what was surely undone; the run's
    counts (``RunFinished``) are made from these fields.
    """

    run_id: str
    steps: tuple[str, ...]
    failed_step: str
    attempts: int
    error: str
    committed: tuple[str, ...] = ()
    uncertain: tuple[str, ...] = ()
    transactional: bool = True

    @property
    def rolled_back(self) -> tuple[str, ...]:
        """The steps whose work was surely undone (none outside a transaction)."""
        if not self.transactional:
            return ()
        return tuple(s for s in self.steps if s not in self.uncertain)


@dataclass(frozen=True)
class StepSkipped:
    """A step that will not run in this run: something it depends on failed, or the run stopped."""

    run_id: str
    step: str
    reason: str


@dataclass(frozen=True)
class RollbackStarted:
    """A step failed for good and declared a ``rollback:``; it is running now."""

    run_id: str
    step: str


@dataclass(frozen=True)
class RollbackFinished:
    """How a step's rollback ended; with ``continue_on_rollback`` its dependents may still run."""

    run_id: str
    step: str
    succeeded: bool
    duration: float
    error: str | None = None
    continue_on_rollback: bool = False
    # what the rollback was, as the review report names it: ``ROLLBACK`` (SQL or a script),
    # ``ROLLBACK_TO_BACKUP`` (``type: restore``: the last good files put back)
    action: str = "ROLLBACK"


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    pipeline: str
    status: RunStatus
    duration: float
    completed: tuple[str, ...]
    failed_step: str | None = None
    error: str | None = None
    not_run: tuple[str, ...] = field(default_factory=tuple)
    failed: tuple[str, ...] = field(default_factory=tuple)
    rolled_back: tuple[str, ...] = field(default_factory=tuple)  # ran, then undone
    # ran before a DDL statement that failed, which may have committed them (``UnitFailed``)
    uncertain: tuple[str, ...] = field(default_factory=tuple)

    def counts(self) -> str:
        """``3 done, 1 failed, 1 rolled back, 5 not run``: every step of the run counted once
        (done is always said; the others when there are any)."""
        parts = [f"{len(self.completed)} done"]
        for steps, what in (
            (self.failed, "failed"),
            (self.rolled_back, "rolled back"),
            (self.uncertain, "may be committed"),
            (self.not_run, "not run"),
        ):
            if steps:
                parts.append(f"{len(steps)} {what}")
        return ", ".join(parts)


Event: TypeAlias = (
    RunStarted
    | UnitStarted
    | StepStarted
    | StepOutput
    | StepSucceeded
    | StepFailed
    | UnitRetrying
    | UnitCommitted
    | UnitFailed
    | StepSkipped
    | RollbackStarted
    | RollbackFinished
    | RunFinished
)


class Subscriber(Protocol):
    """Anything that reacts to a run's events.

    ``handle`` is called under the bus's lock (see ``EventBus``): it must return quickly.
    """

    def handle(self, event: Event) -> None: ...


class EventBus:
    """Delivers each event to every subscriber, in the order they were added.

    Units may run on several threads; the bus delivers one event at a time, so subscribers see
    a single ordered stream and need no locks of their own.

    The rule that comes with it: nothing slow runs under the bus's lock, since every unit that
    emits an event waits for it. Only quick bookkeeping is done in ``handle``: the console, the
    log line, the result's tally, the review report's notes (written once, at the end). Anything
    that waits on a disk sync, a database or the network (the manifest's done marks, the state
    store, the notices) queues its work and does it on a thread of its own, in the same order
    (``ordo.subscribers._writer.BackgroundWriter``).
    """

    def __init__(self, subscribers: list[Subscriber] | None = None) -> None:
        self._subscribers: list[Subscriber] = list(subscribers or [])
        self._lock = threading.RLock()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def emit(self, event: Event) -> None:
        with self._lock:
            for subscriber in self._subscribers:
                subscriber.handle(event)
