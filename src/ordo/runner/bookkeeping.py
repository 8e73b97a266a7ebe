"""Each step's result as a run goes, in one place: what ``RunResult.steps`` will say.

The runner and the rehearsal both keep their results here, so the rules are written once: a
step that ran in a unit that later rolled back is ``rolled_back``, not ``success``; a step
that never started is ``not_run`` unless something decided it will not run (``skipped``).
Errors are kept masked, as they reach every reader from here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ordo.events import EventBus, RunFinished, RunStarted, RunStatus
from ordo.kinds.base import PreparedStep
from ordo.runner.result import RunResult, StepResult, StepStatus

if TYPE_CHECKING:
    from ordo.planning.model import Plan

__all__ = ["Results"]


class Results:
    """The results of a plan's steps, in plan order."""

    def __init__(self, steps: Sequence[PreparedStep]) -> None:
        self._by_name = {step.name: StepResult(step.name, step.kind) for step in steps}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def __getitem__(self, name: str) -> StepResult:
        return self._by_name[name]

    def started(self, name: str, attempt: int) -> None:
        self._by_name[name].attempts = attempt

    def succeeded(
        self, name: str, duration: float, rows: int | None, output_file: Path | None = None
    ) -> None:
        result = self._by_name[name]
        result.status, result.duration, result.rows = StepStatus.SUCCESS, duration, rows
        result.error, result.output_file = None, output_file

    def failed(self, name: str, error: str, duration: float | None = None) -> None:
        """The step failed; ``duration`` None keeps the time it ran (a failed commit)."""
        result = self._by_name[name]
        result.status, result.error = StepStatus.FAILED, error
        if duration is not None:
            result.duration = duration

    def recovered(self, name: str) -> None:
        """Committed by an earlier, interrupted run (the ledger says so)."""
        self._by_name[name].status = StepStatus.SUCCESS

    def rolled_back(self, names: Iterable[str]) -> None:
        """The unit's transaction rolled back: what had succeeded in it is undone."""
        for name in names:
            result = self._by_name[name]
            if result.status is StepStatus.SUCCESS:
                result.status = StepStatus.ROLLED_BACK

    def skipped(self, name: str, reason: str | None = None) -> None:
        result = self._by_name[name]
        result.status = StepStatus.SKIPPED
        if reason is not None:
            result.error = reason

    def with_status(self, *statuses: StepStatus) -> tuple[str, ...]:
        return tuple(n for n, r in self._by_name.items() if r.status in statuses)

    def first_failed(self) -> StepResult | None:
        return next((r for r in self._by_name.values() if r.status is StepStatus.FAILED), None)

    def run_result(
        self, run_id: str, pipeline: str, status: RunStatus, duration: float, error: str | None
    ) -> RunResult:
        return RunResult(
            run_id, pipeline, status, list(self._by_name.values()), duration, error=error
        )

    def start_run(self, bus: EventBus, run_id: str, plan: Plan) -> float:
        """Tell the bus that the run starts, with its steps; returns when (``time.monotonic``)."""
        started = time.monotonic()
        bus.emit(RunStarted(run_id, plan.name, plan.manifest.path, self.names, datetime.now()))
        return started

    def finish_run(
        self,
        bus: EventBus,
        run_id: str,
        plan: Plan,
        status: RunStatus,
        started: float,
        *,
        completed: tuple[str, ...],
        failed_step: str | None,
        error: str | None,
    ) -> RunResult:
        """Tell the bus how the run ended, the steps that did not run included; its result."""
        duration = time.monotonic() - started
        not_run = self.with_status(StepStatus.NOT_RUN, StepStatus.SKIPPED)
        bus.emit(
            RunFinished(
                run_id,
                plan.name,
                status,
                duration,
                completed,
                failed_step=failed_step,
                error=error,
                not_run=not_run,
                failed=self.with_status(StepStatus.FAILED),
                rolled_back=self.with_status(StepStatus.ROLLED_BACK),
            )
        )
        return self.run_result(run_id, plan.name, status, duration, error)
