"""Event streams of whole runs, as the runner emits them, to test and measure state stores.

A store recorder is only as good as its handling of real sequences (a retry, a transaction
group rolled back, an abort half-way through); writing those out by hand in every test would
let each test invent its own, slightly wrong, order. ``RunScript`` emits them the way
``ordo.runner`` does, unit by unit:

    script = RunScript(["create", "load", "report"])
    script.unit_succeeds("create", rows=3)
    script.unit_retries("load", failing="load", error="deadlock detected")
    script.unit_succeeds("load")
    script.unit_fails("report", failing="report", error="no such table: x")
    events = script.finish(RunStatus.FAILED)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ordo.errors import ErrorKind
from ordo.events import (
    Event,
    RunFinished,
    RunStarted,
    RunStatus,
    StepFailed,
    StepSkipped,
    StepStarted,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
    UnitStarted,
)

__all__ = ["RunScript"]


class RunScript:
    """Builds one run's events; ``events`` holds them so far, ``finish`` closes the run.

    ``at`` is the run's start time (default: now); each unit moves the clock on by its
    steps' durations, so times in the store increase as in a real run.
    """

    def __init__(
        self,
        steps: Sequence[str],
        *,
        run_id: str | None = None,
        pipeline: str = "pipeline",
        manifest: Path = Path("queue/manifest.yaml"),
        kind: str = "sql",
        at: datetime | None = None,
    ) -> None:
        self.run_id = run_id or uuid.uuid4().hex
        self.pipeline = pipeline
        self.steps = tuple(steps)
        self.kind = kind
        self.clock = self.started_at = at or datetime.now()
        self._taken = 0
        self.completed: list[str] = []
        self.failure: UnitFailed | None = None
        self.events: list[Event] = [
            RunStarted(self.run_id, pipeline, manifest, self.steps, self.clock)
        ]

    def unit_succeeds(
        self,
        *steps: str,
        rows: int | None = 1,
        duration: float = 0.01,
        attempt: int = 1,
        group: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> RunScript:
        """Every step runs and the unit commits; each reports ``details`` if given."""
        self._attempt(steps, None, "", False, rows, duration, attempt, group, details)
        self.events.append(UnitCommitted(self.run_id, steps, self._tick(0)))
        self.completed.extend(steps)
        return self

    def unit_retries(
        self,
        *steps: str,
        failing: str,
        error: str = "deadlock detected",
        attempt: int = 1,
        group: str | None = None,
    ) -> RunScript:
        """``failing`` fails transiently; the unit rolls back and will run again."""
        self._attempt(steps, failing, error, True, 1, 0.01, attempt, group)
        self.events.append(
            UnitRetrying(self.run_id, steps, attempt, attempt + 1, 2.0**attempt, error)
        )
        return self

    def unit_fails(
        self,
        *steps: str,
        failing: str,
        error: str = "syntax error",
        attempt: int = 1,
        group: str | None = None,
    ) -> RunScript:
        """``failing`` fails for good; the unit rolls back."""
        self._attempt(steps, failing, error, False, 1, 0.01, attempt, group)
        self.failure = UnitFailed(self.run_id, steps, failing, attempt, error)
        self.events.append(self.failure)
        return self

    def step_skipped(self, step: str, reason: str = "a step it depends on failed") -> RunScript:
        self.events.append(StepSkipped(self.run_id, step, reason))
        return self

    def step_started(self, step: str, attempt: int = 1) -> RunScript:
        """A step starts and nothing more happens to it (the run is then aborted, say)."""
        self.events.append(UnitStarted(self.run_id, (step,), None, "default", attempt))
        self.events.append(self._started(step, attempt))
        return self

    def finish(self, status: RunStatus | None = None) -> list[Event]:
        """Close the run (failed if a unit failed, else success); returns every event."""
        status = status or (RunStatus.FAILED if self.failure else RunStatus.SUCCESS)
        duration = (self.clock - self.started_at).total_seconds()
        self.events.append(
            RunFinished(
                self.run_id,
                self.pipeline,
                status,
                duration,
                tuple(self.completed),
                failed_step=self.failure.failed_step if self.failure else None,
                error=self.failure.error if self.failure else None,
                not_run=tuple(s for s in self.steps if s not in self.completed),
            )
        )
        return list(self.events)

    def take(self) -> list[Event]:
        """The events added since the last ``take``: to feed a run to a recorder in parts."""
        taken, self._taken = self.events[self._taken :], len(self.events)
        return taken

    def _attempt(
        self,
        steps: Sequence[str],
        failing: str | None,
        error: str,
        transient: bool,
        rows: int | None,
        duration: float,
        attempt: int,
        group: str | None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.events.append(UnitStarted(self.run_id, tuple(steps), group, "default", attempt))
        for step in steps:
            self.events.append(self._started(step, attempt))
            self._tick(duration)
            if step == failing:
                self.events.append(
                    StepFailed(
                        self.run_id,
                        step,
                        self.kind,
                        attempt,
                        duration,
                        error,
                        ErrorKind.TRANSIENT if transient else ErrorKind.PERMANENT,
                    )
                )
                return
            self.events.append(
                StepSucceeded(
                    self.run_id,
                    step,
                    self.kind,
                    attempt,
                    duration,
                    rows,
                    False,
                    None,
                    details or {},
                )
            )

    def _started(self, step: str, attempt: int) -> StepStarted:
        index = self.steps.index(step) + 1
        return StepStarted(self.run_id, step, self.kind, attempt, index, len(self.steps))

    def _tick(self, seconds: float) -> datetime:
        self.clock += timedelta(seconds=seconds)
        return self.clock
