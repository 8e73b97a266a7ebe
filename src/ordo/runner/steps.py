"""Running one step: its kind's ``execute``, its events, its result, its output file.

Shared by the runner's units and the rehearsal, so that "execute a kind and report it" is
written once. A step's output file is rendered and written to its temp name here, inside the
unit's transaction, so a file that cannot be written fails the step (and rolls its unit back);
the unit renames it into place once it has committed.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from ordo._words import plural
from ordo.errors import ErrorKind, ExecutionError, PermanentError
from ordo.events import EventBus, StepFailed, StepOutput, StepStarted, StepSucceeded
from ordo.kinds import get_kind
from ordo.kinds.base import ExecutionContext, PreparedStep, StepOutcome
from ordo.tabular import stage_output

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo._files import StagedFile
    from ordo.db.dialects import Dialect
    from ordo.masking import Masker
    from ordo.planning.model import Plan
    from ordo.runner.bookkeeping import Results
    from ordo.runner.connections import Cancellers

__all__ = ["Aborted", "StepRunner"]


class Aborted(BaseException):
    """The run is being aborted: the unit stops where it is and rolls back (never retried)."""


class StepRunner:
    """Runs steps of one plan and reports each; ``rehearsal`` runs them without side effects
    beyond the database (no output files, no notices, no cancel hooks)."""

    def __init__(
        self,
        plan: Plan,
        *,
        run_id: str,
        bus: EventBus,
        masker: Masker,
        results: Results,
        abort: threading.Event | None = None,
        cancellers: Cancellers | None = None,
        rehearsal: bool = False,
    ) -> None:
        self.plan, self.run_id, self.bus, self.masker = plan, run_id, bus, masker
        self.results = results
        self.abort = abort or threading.Event()
        self.cancellers = cancellers
        self.rehearsal = rehearsal
        self._index = {step.name: i for i, step in enumerate(plan.steps, start=1)}

    def started(self, step: PreparedStep, attempt: int) -> None:
        """Tell everyone the step starts (also for a step the ledger recovers)."""
        index, total = self._index[step.name], len(self._index)
        self.bus.emit(StepStarted(self.run_id, step.name, step.kind, attempt, index, total))

    def run(
        self,
        step: PreparedStep,
        attempt: int,
        conn: Connection | None,
        dialect: Dialect | None,
        *,
        unit_key: str,
        staged: list[StagedFile] | None = None,
    ) -> StepOutcome:
        """Execute ``step``; raises its ``ExecutionError`` (with the step named, masked)."""
        if self.abort.is_set():
            raise Aborted
        self.results.started(step.name, attempt)
        self.started(step, attempt)
        ctx = self._context(step, attempt, conn, dialect, unit_key)
        started = time.monotonic()
        try:
            outcome = get_kind(step.kind).execute(step, ctx)
            if outcome.staged is not None:
                if staged is None:  # a rehearsal: no output files
                    outcome.staged.discard()
                else:
                    staged.append(outcome.staged)
            elif staged is not None and outcome.output is not None and outcome.output_file:
                staged.append(stage_output(outcome.output_file, outcome.output))
            if outcome.warnings and self.plan.fail_on == "warn":
                raise _warnings_fail(outcome)
        except ExecutionError as exc:
            if self.abort.is_set():
                raise Aborted from exc  # cancelled by the abort: not a failure of the step
            self.failed(step, attempt, exc, time.monotonic() - started)
            raise exc.with_context(step=step.name, mask=self.masker.mask) from exc
        finally:
            if conn is None and self.cancellers is not None:
                self.cancellers.drop(unit_key)
        duration = time.monotonic() - started
        output_file = None if self.rehearsal else outcome.output_file
        self.results.succeeded(step.name, duration, outcome.rows, output_file)
        warnings = tuple(self.masker.mask(warning) for warning in outcome.warnings)
        notify = (step.options.notify or bool(warnings)) and not self.rehearsal
        self.bus.emit(
            StepSucceeded(
                self.run_id,
                step.name,
                step.kind,
                attempt,
                duration,
                outcome.rows,
                notify,
                output_file,
                outcome.details,
                warnings,
            )
        )
        return outcome

    def failed(
        self,
        step: PreparedStep,
        attempt: int,
        error: ExecutionError,
        duration: float | None = None,
    ) -> None:
        """Record and report that ``step`` failed with ``error`` (masked here). Its hint is
        part of the message: a failed step is shown, logged, stored and reported by its
        message, and what to do about it belongs beside it."""
        told = error.message
        if error.hint and f"(hint: {error.hint})" not in told:
            told = f"{told} (hint: {error.hint})"
        message = self.masker.mask(told)
        self.results.failed(step.name, message, duration)
        self.bus.emit(
            StepFailed(
                self.run_id,
                step.name,
                step.kind,
                attempt,
                self.results[step.name].duration,
                message,
                ErrorKind.of(error),
                dict(error.details),
            )
        )

    def _context(
        self,
        step: PreparedStep,
        attempt: int,
        conn: Connection | None,
        dialect: Dialect | None,
        unit_key: str,
    ) -> ExecutionContext:
        ctx = ExecutionContext(
            run_id=self.run_id,
            project=self.plan.project,
            settings=self.plan.settings,
            masker=self.masker,
            attempt=attempt,
            connection=conn,
            dialect=dialect,
        )
        ctx.log_line = lambda line: self.bus.emit(StepOutput(self.run_id, step.name, line))
        ctx.log_notice = lambda line: self.bus.emit(
            StepOutput(self.run_id, step.name, self.masker.mask(line), notice=True)
        )
        cancellers = self.cancellers
        if cancellers is not None:
            ctx.on_cancel = lambda cancel: cancellers.add(unit_key, cancel)
        return ctx


def _warnings_fail(outcome: StepOutcome) -> PermanentError:
    """``--fail-on warn``: the step's warnings fail it, with its details kept for the record."""
    error = PermanentError(
        f"{plural(len(outcome.warnings), 'warning')} (--fail-on warn): "
        + "; ".join(outcome.warnings)
    )
    error.details = dict(outcome.details)
    return error
