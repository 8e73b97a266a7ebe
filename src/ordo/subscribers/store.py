"""Turns a run's events into state store writes: the subscriber behind ``ordo runs``.

What each event becomes:

- ``RunStarted``: the job row (created or updated), the run (``running``, with the process
  that runs it: ``store.owners``) and one ``PENDING`` task per step, in plan order. This one
  is written before ``handle`` returns, so before the first unit starts: a run killed during
  its first step still leaves its trace, which the next run marks ``crashed``.
- ``StepStarted``: ``RUNNING``, with the attempt number; the previous attempt's error goes.
- ``StepSucceeded``: nothing yet. Its rows and duration wait in memory for ``UnitCommitted``:
  a step is ``COMPLETED`` only once its unit's transaction has committed (DESIGN.md, "a step
  is done when its work is committed").
- ``UnitCommitted``: every step of the unit ``COMPLETED``, with rows and duration, in one
  transaction.
- ``StepFailed``: ``FAILED`` with the (masked) error and duration.
- ``UnitRetrying``: every step of the unit ``RETRYING``: the whole unit runs again.
- ``UnitFailed``: the unit rolled back for good. The failing step is ``FAILED``; a step of
  its transaction group that had run is ``FAILED`` too, with "rolled back: ..." as its error,
  since its work is gone and it was not completed; a step of the group that had not run in
  the last attempt is ``SKIPPED``.
- ``StepSkipped``: ``SKIPPED`` with the reason.
- ``RunFinished``: the run's status, end time and error; steps still ``PENDING`` become
  ``SKIPPED``, steps still ``RUNNING`` or ``RETRYING`` (an aborted run) ``FAILED``.

Per step that is two short writes (start, commit) on a connection the store holds, made on a
``BackgroundWriter`` of the recorder's own (running from ``start()``), as ``ManifestRecorder``
does for the manifest: the run
only appends the event to a list, and the store's round trips overlap the next step's work
instead of adding to it. Writes keep the events' order, and times are taken when an event
arrives, not when it is written. ``RunFinished`` (or ``close``) waits until everything is
written, so the record is complete when ``ordo.run`` returns. A ``kill -9`` may lose the
few writes still queued; a killed run's record is incomplete either way (it stays
``running`` until a later run of its pipeline sees its process gone and marks it
``crashed``), and what was committed is known from the ledger, not from here.

The store is a record, not part of the work: a write that fails is logged as a warning
(masked) and the run goes on; the run's record may then be incomplete, and the end of the
run says so once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordo.events import (
    Event,
    RunFinished,
    RunStarted,
    StepFailed,
    StepSkipped,
    StepStarted,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
)
from ordo.masking import Masker
from ordo.store.base import PlannedTask, StateStore, TaskOutcome, TaskStatus
from ordo.store.owners import current_owner
from ordo.subscribers._writer import BackgroundWriter

if TYPE_CHECKING:
    from ordo.planning.model import Plan

__all__ = ["StepLayout", "StoreRecorder", "layout_of"]

LOGGER = logging.getLogger("ordo.store")


@dataclass(frozen=True)
class StepLayout:
    """What the plan knows about a step before it runs; events alone do not say it."""

    kind: str
    unit_index: int
    transaction_group: str | None
    max_attempts: int


def layout_of(plan: Plan) -> dict[str, StepLayout]:
    """Each step's kind, unit (1-based index in the plan, and group) and attempt limit."""
    return {
        step.name: StepLayout(step.kind, index, unit.group, unit.retry.max_retries + 1)
        for index, unit in enumerate(plan.units, start=1)
        for step in unit.steps
    }


class StoreRecorder:
    """An ``events.Subscriber`` writing one run to a ``StateStore`` (which its caller closes).

    ``layout`` (see ``layout_of``) fills in each task's kind, unit and attempt limit from the
    start; without it the kind is learnt when the step starts and the rest stays empty.
    ``background=False`` writes in the caller's thread, before ``handle`` returns; so does a
    recorder whose ``start()`` has not been called yet, or one that is closed.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        job_name: str,
        manifest_path: Path | str,
        manifest_text: str,
        rehearsal: bool = False,
        resumed_from: str | None = None,
        layout: Mapping[str, StepLayout] | None = None,
        masker: Masker | None = None,
        background: bool = True,
        logger: logging.Logger = LOGGER,
    ) -> None:
        self.store = store
        self.job_name = job_name
        self.manifest_path = str(manifest_path)
        self.manifest_text = manifest_text
        self.rehearsal = rehearsal
        self.resumed_from = resumed_from
        self.layout = dict(layout or {})
        self.masker = masker or Masker()
        self.log = logger
        self.background = background
        self.failures = 0
        self._reported = False
        self._writer: BackgroundWriter[tuple[Event, datetime]] = BackgroundWriter(
            "ordo-state-store", self._write_batch
        )
        # ran, not yet committed: rows, duration, details
        self._succeeded: dict[str, tuple[int | None, float, Mapping[str, Any]]] = {}

    @classmethod
    def for_plan(
        cls,
        store: StateStore,
        plan: Plan,
        *,
        rehearsal: bool = False,
        resumed_from: str | None = None,
        masker: Masker | None = None,
    ) -> StoreRecorder:
        """The recorder for a run of ``plan``: job name, manifest and layout taken from it."""
        return cls(
            store,
            job_name=plan.name,
            manifest_path=plan.manifest.path,
            manifest_text=plan.manifest.text,
            rehearsal=rehearsal,
            resumed_from=resumed_from,
            layout=layout_of(plan),
            masker=masker,
        )

    def start(self) -> None:
        """Start the writer thread (nothing happens with ``background=False``)."""
        if self.background:
            self._writer.start()

    def handle(self, event: Event) -> None:
        self._writer.put((event, _now()))  # the time it happened, not the time it is written
        if isinstance(event, RunStarted):
            self._writer.flush()  # in the store before any unit starts (module docstring)
        elif isinstance(event, RunFinished):
            self.close()

    def flush(self) -> None:
        """Wait until everything handled so far is written (or has failed to be)."""
        self._writer.flush()

    def close(self) -> None:
        """Write what is queued and stop the writer thread; called at ``RunFinished``, and
        safe to call again (``ordo.run`` does, in case the run ended without one)."""
        self._writer.close()
        if self.failures and not self._reported:
            self._reported = True
            self.log.warning(
                "state store: %d write(s) failed; this run's record in `ordo runs` is incomplete",
                self.failures,
            )

    def _write_batch(self, batch: list[tuple[Event, datetime]]) -> None:
        """The batch in one store transaction where the store can (``SqlStore.batch``); if
        that fails, event by event as before, each failure counted and logged on its own."""
        batched: Callable[[], AbstractContextManager[None]] | None = getattr(
            self.store, "batch", None
        )
        if batched is not None and len(batch) > 1:
            kept = dict(self._succeeded)
            try:
                with batched():
                    for event, at in batch:
                        self._record(event, at)
                return
            except Exception:
                self._succeeded = kept  # nothing of the batch was written: write it again
        for event, at in batch:
            self._apply(event, at)

    def _apply(self, event: Event, at: datetime) -> None:
        try:
            self._record(event, at)
        except Exception as exc:  # the store is a record: it never fails the run
            self._write_failed(event, exc)

    def _record(self, event: Event, now: datetime) -> None:
        store, run = self.store, event.run_id
        match event:
            case RunStarted():
                self._start(event)
            case StepStarted():
                self._succeeded.pop(event.step, None)
                store.task_started(
                    run, event.step, attempt=event.attempt, at=now, task_type=event.kind
                )
            case StepSucceeded():
                details = _masked(event.details, self.masker)
                self._succeeded[event.step] = (event.rows, event.duration, details)
            case UnitCommitted():
                outcomes = []
                for step in event.steps:
                    rows, duration, details = self._succeeded.pop(step, (None, None, {}))
                    outcomes.append(
                        TaskOutcome(
                            step,
                            TaskStatus.COMPLETED,
                            event.at,
                            rows,
                            _ms(duration),
                            details=dict(details) or None,
                        )
                    )
                store.task_finished(run, outcomes)
            case StepFailed():
                self._succeeded.pop(event.step, None)
                outcome = TaskOutcome(
                    event.step,
                    TaskStatus.FAILED,
                    now,
                    duration_ms=_ms(event.duration),
                    error=self.masker.mask(event.error),
                    details=_masked(event.details, self.masker) or None,
                )
                store.task_finished(run, [outcome])
            case UnitRetrying():
                for step in event.steps:
                    self._succeeded.pop(step, None)
                store.task_retrying(run, event.steps)
            case UnitFailed():
                store.task_finished(run, self._rolled_back(event, now))
            case StepSkipped():
                store.task_skipped(run, [event.step], reason=self.masker.mask(event.reason), at=now)
            case RunFinished():
                store.finish_run(
                    run, status=event.status.value, at=now, error=_run_error(event, self.masker)
                )
            case _:
                pass  # output lines, unit starts and rollbacks add nothing to the record yet

    def _start(self, event: RunStarted) -> None:
        job_id = self.store.record_job(self.job_name, self.manifest_path, self.manifest_text)
        planned = []
        for position, step in enumerate(event.steps, start=1):
            layout = self.layout.get(step)
            if layout is None:
                planned.append(PlannedTask(step, position))
            else:
                planned.append(
                    PlannedTask(
                        step,
                        position,
                        layout.kind,
                        layout.unit_index,
                        layout.transaction_group,
                        layout.max_attempts,
                    )
                )
        self.store.start_run(
            event.run_id,
            job_id,
            started_at=event.at,
            manifest_text=self.manifest_text,
            tasks=planned,
            rehearsal=self.rehearsal,
            resumed_from=self.resumed_from,
            owner=current_owner(),
        )

    def _rolled_back(self, event: UnitFailed, now: datetime) -> list[TaskOutcome]:
        """The unit's steps once it has failed for good; see the module docstring."""
        failed = event.failed_step
        outcomes = []
        for step in event.steps:
            ran = self._succeeded.pop(step, None)
            if step == failed:
                error = self.masker.mask(event.error)
                outcomes.append(TaskOutcome(step, TaskStatus.FAILED, now, error=error))
            elif ran is not None:
                error = f"rolled back: step '{failed}' of its transaction group failed"
                if step in event.uncertain:
                    error = f"may be committed: the DDL of step '{failed}' commits on its own"
                outcomes.append(
                    TaskOutcome(step, TaskStatus.FAILED, now, duration_ms=_ms(ran[1]), error=error)
                )
            else:
                reason = f"not run: step '{failed}' of its transaction group failed"
                outcomes.append(TaskOutcome(step, TaskStatus.SKIPPED, now, error=reason))
        return outcomes

    def _write_failed(self, event: Event, exc: Exception) -> None:
        self.failures += 1
        message = self.masker.mask(str(exc))
        if self.failures == 1:
            self.log.warning(
                "state store: could not record %s of run %s (the run goes on): %s",
                type(event).__name__,
                event.run_id,
                message,
            )
        else:
            self.log.debug("state store: could not record %s: %s", type(event).__name__, message)


def _now() -> datetime:
    return datetime.now(UTC)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _run_error(event: RunFinished, masker: Masker) -> str | None:
    if event.error is None:
        return None
    error = masker.mask(event.error)
    return f"step '{event.failed_step}': {error}" if event.failed_step else error


def _masked(value: Any, masker: Masker) -> Any:
    """``value`` (plain JSON) with every string masked: details may quote a secret."""
    if isinstance(value, str):
        return masker.mask(value)
    if isinstance(value, Mapping):
        return {masker.mask(str(k)): _masked(v, masker) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, masker) for v in value]
    return value
