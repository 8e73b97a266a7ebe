"""Executes a plan: unit after unit, each in its transaction, retried when the failure is transient.

The runner owns transactions and retries and nothing else: what a step does belongs to its kind,
and what happens because of a step (console, log, manifest state, notices) belongs to the event
subscribers. A unit's steps are reported done only after its transaction commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential

from ordo.errors import ExecutionError, OrdoError, TransientError
from ordo.events import (
    EventBus,
    RunFinished,
    RunStarted,
    RunStatus,
    StepFailed,
    StepOutput,
    StepStarted,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
    UnitStarted,
)
from ordo.kinds import get_kind
from ordo.kinds.base import ExecutionContext, PreparedStep, StepOutcome
from ordo.output import write_output
from ordo.result import RunResult, StepResult, StepStatus

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect
    from ordo.db.engines import EngineRegistry
    from ordo.planning import Plan, Unit
    from ordo.secrets import Masker

__all__ = ["Runner"]


class Runner:
    """Runs one plan once. Holds one connection per connection name for the whole run."""

    def __init__(
        self,
        plan: Plan,
        *,
        run_id: str,
        bus: EventBus,
        masker: Masker,
        engines: EngineRegistry,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.plan = plan
        self.run_id = run_id
        self.bus = bus
        self.masker = masker
        self.engines = engines
        self._sleep = sleep
        self._connections: dict[str, tuple[Connection, Dialect]] = {}
        self._results = {step.name: StepResult(step.name, step.kind) for step in plan.steps}
        self._index = {step.name: i for i, step in enumerate(plan.steps, start=1)}

    def execute(self) -> RunResult:
        started = time.monotonic()
        self.bus.emit(
            RunStarted(
                self.run_id,
                self.plan.name,
                self.plan.manifest.path,
                tuple(self._results),
                datetime.now(),
            )
        )
        completed: list[str] = []
        failure: UnitFailed | None = None
        status = RunStatus.SUCCESS
        try:
            for unit in self.plan.units:
                failure = self._run_unit(unit)
                if failure is not None:
                    status = RunStatus.FAILED
                    break
                completed.extend(unit.names)
        except KeyboardInterrupt:
            status = RunStatus.ABORTED
            raise
        finally:
            self._close()
            duration = time.monotonic() - started
            not_run = tuple(n for n, r in self._results.items() if r.status is StepStatus.NOT_RUN)
            self.bus.emit(
                RunFinished(
                    self.run_id,
                    self.plan.name,
                    status,
                    duration,
                    tuple(completed),
                    failed_step=failure.failed_step if failure else None,
                    error=failure.error if failure else None,
                    not_run=not_run,
                )
            )
        return RunResult(
            self.run_id,
            self.plan.name,
            status,
            list(self._results.values()),
            duration,
            error=failure.error if failure else None,
        )

    def _run_unit(self, unit: Unit) -> UnitFailed | None:
        """Run a unit with its retry policy; returns the failure, or None once committed."""
        policy = unit.retry
        attempts = 0

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self.bus.emit(
                UnitRetrying(
                    self.run_id,
                    unit.names,
                    state.attempt_number,
                    state.attempt_number + 1,
                    state.upcoming_sleep,
                    self.masker.mask(str(exc)),
                )
            )

        retrying = Retrying(
            stop=stop_after_attempt(policy.max_retries + 1),
            wait=wait_exponential(multiplier=policy.base, exp_base=2, max=policy.cap),
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    outcomes = self._attempt(unit, attempts)
        except ExecutionError as exc:
            failed = exc.step or unit.names[0]
            for name in unit.names:
                result = self._results[name]
                if result.status is StepStatus.SUCCESS:
                    result.status = StepStatus.ROLLED_BACK
            event = UnitFailed(
                self.run_id, unit.names, failed, attempts, self.masker.mask(exc.message)
            )
            self.bus.emit(event)
            return event
        for _step, outcome in outcomes:
            if outcome.output is not None and outcome.output_file is not None:
                write_output(outcome.output_file, outcome.output)
        self.bus.emit(UnitCommitted(self.run_id, unit.names, datetime.now()))
        return None

    def _attempt(self, unit: Unit, attempt: int) -> list[tuple[PreparedStep, StepOutcome]]:
        self.bus.emit(UnitStarted(self.run_id, unit.names, unit.group, unit.connection, attempt))
        if not unit.transactional or unit.connection is None:
            self._release_exclusive()
            return [(step, self._run_step(step, attempt, None, None)) for step in unit.steps]
        conn, dialect = self._connection(unit.connection)
        try:
            with conn.begin():  # commits after the last step; rolls back on any error
                return [(step, self._run_step(step, attempt, conn, dialect)) for step in unit.steps]
        except OrdoError:
            self._discard(unit.connection)
            raise
        except Exception as exc:  # the commit itself failed
            from ordo.db.errors import translate

            self._discard(unit.connection)
            error = translate(exc, masker=self.masker)
            error.step = error.step or unit.names[-1]
            error.message = f"could not commit: {error.message}"  # already masked
            self._commit_failed(unit.steps[-1], attempt, error)
            raise error from exc

    def _commit_failed(self, step: PreparedStep, attempt: int, error: ExecutionError) -> None:
        """The unit's last step ran but its work could not be committed: that step failed.

        Reported like a failing statement, so that the result, the log and the console carry
        the database's message (a deferred constraint, a lock held at COMMIT).
        """
        result = self._results[step.name]
        result.status, result.error = StepStatus.FAILED, error.message
        self.bus.emit(
            StepFailed(
                self.run_id,
                step.name,
                step.kind,
                attempt,
                result.duration,
                error.message,
                isinstance(error, TransientError),
            )
        )

    def _run_step(
        self, step: PreparedStep, attempt: int, conn: Connection | None, dialect: Dialect | None
    ) -> StepOutcome:
        result = self._results[step.name]
        result.attempts = attempt
        self.bus.emit(
            StepStarted(
                self.run_id, step.name, step.kind, attempt, self._index[step.name], len(self._index)
            )
        )
        ctx = ExecutionContext(
            run_id=self.run_id,
            project=self.plan.project,
            settings=self.plan.settings,
            masker=self.masker,
            attempt=attempt,
            connection=conn,
            dialect=dialect,
            log_line=lambda line: self.bus.emit(StepOutput(self.run_id, step.name, line)),
        )
        started = time.monotonic()
        try:
            outcome = get_kind(step.kind).execute(step, ctx)
        except ExecutionError as exc:
            duration = time.monotonic() - started
            exc.step = exc.step or step.name
            exc.message = self.masker.mask(exc.message)
            result.status, result.duration, result.error = StepStatus.FAILED, duration, exc.message
            self.bus.emit(
                StepFailed(
                    self.run_id,
                    step.name,
                    step.kind,
                    attempt,
                    duration,
                    exc.message,
                    isinstance(exc, TransientError),
                )
            )
            raise
        duration = time.monotonic() - started
        result.status, result.duration, result.rows = StepStatus.SUCCESS, duration, outcome.rows
        result.error, result.output_file = None, outcome.output_file
        self.bus.emit(
            StepSucceeded(
                self.run_id,
                step.name,
                step.kind,
                attempt,
                duration,
                outcome.rows,
                step.options.notify,
                outcome.output_file,
            )
        )
        return outcome

    def _connection(self, name: str) -> tuple[Connection, Dialect]:
        if name not in self._connections:
            from ordo.db.dialects import dialect_for
            from ordo.db.errors import translate

            settings = self.plan.settings.connection(name)
            try:
                conn = self.engines.for_connection(settings).connect()
            except Exception as exc:
                raise translate(exc, masker=self.masker) from exc
            self._connections[name] = (conn, dialect_for(conn))
        return self._connections[name]

    def _discard(self, name: str) -> None:
        """Drop a connection after a failure so a retry starts on a clean one."""
        entry = self._connections.pop(name, None)
        if entry is not None:
            try:
                entry[0].close()
            except Exception:
                entry[0].invalidate()

    def _release_exclusive(self) -> None:
        """Let go of databases that lock out other processes, before a step runs in its own.

        Every unit before has committed, so nothing is lost; a python script connecting to
        the run's DuckDB file could not open it otherwise. The next SQL unit reconnects.
        """
        for name, (conn, dialect) in list(self._connections.items()):
            engine = conn.engine
            if dialect.locks_out_other_processes(engine.url):
                self._discard(name)
                engine.dispose()  # the pool would keep the file open

    def _close(self) -> None:
        for name in list(self._connections):
            self._discard(name)
