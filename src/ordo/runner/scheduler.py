"""Executes a plan: units in dependency order, each in its transaction, retried when transient.

The runner owns transactions, retries and scheduling and nothing else: what a step does
belongs to its kind, and what happens because of a step (console, log, manifest state,
notices) belongs to the event subscribers. A unit's steps are reported done only after its
transaction commits.

Scheduling. A unit starts once every unit it waits for has committed (``ordo.graph``), at
most ``max_parallel`` at a time (and within each database's bounds, ``ordo.lanes``), the
earliest in plan order first. With ``max_parallel: 1`` (the default) units run one after the
other on the calling thread, exactly as seed 000 does; above that, each running unit has a
thread and a connection of its own. Connections are checked out of the engine's pool as units
need them and kept for the next unit on the same connection until the run ends (a checkout
costs a ping and a rollback, a third of ordo's own time per step on PostgreSQL).

Failures. A unit that fails for good (after its retries) fails the run. With ``on_failure:
stop`` (the default) nothing new starts, running units finish (their commits count) and every
unit that did not start is skipped; with ``continue`` only the units that wait for the failed
one, directly or not, are skipped. Ctrl-C (or SIGTERM) aborts: nothing new starts, statements
still running are cancelled and their units roll back, the units that did not start are
skipped, and the ``KeyboardInterrupt`` goes on to the caller. On a worker thread, work that
runs outside the unit's connection (a python script) stops only if its kind registered how
(``ExecutionContext.on_cancel``); the abort waits for the rest, and a second Ctrl-C stops
waiting.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_when_event_set
from tenacity.wait import wait_exponential

from ordo._files import StagedFile
from ordo.db.errors import database_errors
from ordo.errors import ErrorKind, ExecutionError, TransientError
from ordo.events import (
    EventBus,
    RunFinished,
    RunStarted,
    RunStatus,
    StepFailed,
    StepOutput,
    StepSkipped,
    StepStarted,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
    UnitStarted,
)
from ordo.kinds import get_kind
from ordo.kinds.base import ExecutionContext, PreparedStep, StepOutcome
from ordo.runner.connections import Cancellers, Connections, cancel_statement
from ordo.runner.frontier import Frontier
from ordo.runner.lanes import Lanes
from ordo.runner.recovery import run_rollback
from ordo.runner.result import RunResult, StepResult, StepStatus
from ordo.tabular import stage_output

if TYPE_CHECKING:
    from sqlalchemy import Connection, RootTransaction

    from ordo.db.dialects import Dialect
    from ordo.db.engines import EngineRegistry
    from ordo.masking import Masker
    from ordo.planning.model import Plan, Unit
    from ordo.runner.ledger import Ledger

__all__ = ["Runner"]

LOGGER = logging.getLogger("ordo")
Outcome = UnitFailed | BaseException | None  # None: committed


class Aborted(BaseException):
    """The run is being aborted: the unit stops where it is and rolls back (never retried)."""


class Runner:
    """Runs one plan once; see the module docstring for how units are scheduled."""

    def __init__(
        self,
        plan: Plan,
        *,
        run_id: str,
        bus: EventBus,
        masker: Masker,
        engines: EngineRegistry,
        sleep: Callable[[float], None] = time.sleep,
        ledgers: Mapping[str, Ledger] | None = None,
        recovered: Mapping[str, str] | None = None,
    ) -> None:
        self.plan = plan
        self._ledgers = dict(ledgers or {})  # connection name -> its ledger
        self._recovered = dict(recovered or {})  # step -> the run that committed it
        self.run_id = run_id
        self.bus = bus
        self.masker = masker
        self._sleep = sleep
        self._results = {step.name: StepResult(step.name, step.kind) for step in plan.steps}
        self._index = {step.name: i for i, step in enumerate(plan.steps, start=1)}
        self._abort = threading.Event()
        self._cancellers = Cancellers(self._abort)
        self._frontier = Frontier([unit.depends_on for unit in plan.units])
        self._lanes = Lanes(plan)
        self._connections = Connections(plan.settings, engines, masker, self._lanes.exclusive)
        self._completed: list[str] = []
        self._failures: list[UnitFailed] = []
        self._recovered_failures: list[UnitFailed] = []  # rolled back, dependents went on

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
        status = RunStatus.SUCCESS
        try:
            self._schedule()
            status = self._status()
        except KeyboardInterrupt:
            status = RunStatus.ABORTED
            raise
        except BaseException:
            status = RunStatus.FAILED
            raise
        finally:
            self._connections.close()
            if status is not RunStatus.SUCCESS:
                reason = "run aborted" if status is RunStatus.ABORTED else "run stopped"
                self._skip(self._frontier.give_up_all(), reason)
            failure = self._failures[0] if self._failures else None
            statuses = (StepStatus.NOT_RUN, StepStatus.SKIPPED)
            duration = time.monotonic() - started
            self.bus.emit(
                RunFinished(
                    self.run_id,
                    self.plan.name,
                    status,
                    duration,
                    tuple(self._completed),
                    failed_step=failure.failed_step if failure else None,
                    error=failure.error if failure else None,
                    not_run=tuple(n for n, r in self._results.items() if r.status in statuses),
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

    # -- scheduling ---------------------------------------------------------------------------

    def _schedule(self) -> None:
        """Start what may start, wait for one unit to end, decide what follows; until done."""
        units, frontier, lanes = self.plan.units, self._frontier, self._lanes
        parallel = lanes.parallelism()
        finished: queue.Queue[tuple[int, Outcome]] = queue.Queue()
        running: set[int] = set()
        try:
            while True:
                held: set[str] = set()
                for i in frontier.ready:
                    if len(running) >= parallel:
                        break
                    if not lanes.may_start(units[i], held):
                        continue
                    frontier.start(i)
                    lanes.enter(units[i], self._connections.release_exclusive)
                    if parallel == 1:  # on this thread: Ctrl-C lands in the unit, as ever
                        finished.put((i, self._run_unit(units[i])))
                        running.add(i)
                    else:
                        running.add(i)
                        threading.Thread(
                            target=self._work,
                            args=(i, finished),
                            name=f"ordo-unit-{i + 1}",
                            daemon=True,
                        ).start()
                if not running:
                    return
                i, outcome = _next(finished)
                running.discard(i)
                lanes.leave(units[i])
                if isinstance(outcome, BaseException):
                    raise outcome
                self._settle(i, outcome)
        except BaseException:
            self._abort_running(running, finished)
            raise

    def _status(self) -> RunStatus:
        """Seed 002: failures all recovered by their rollbacks make a partial success."""
        if not self._failures:
            return RunStatus.SUCCESS
        if len(self._recovered_failures) == len(self._failures):
            return RunStatus.PARTIAL_SUCCESS
        return RunStatus.FAILED

    def _settle(self, i: int, outcome: UnitFailed | None) -> None:
        unit = self.plan.units[i]
        if outcome is None:
            self._completed.extend(unit.names)
            self._frontier.succeeded(i)
            return
        self._failures.append(outcome)
        if run_rollback(
            self.plan,
            outcome.failed_step,
            run_id=self.run_id,
            bus=self.bus,
            masker=self.masker,
            connections=self._connections,
        ):
            self._recovered_failures.append(outcome)
            self._frontier.succeeded(i)  # the decision matrix: its dependents may run
            return
        self._skip(self._frontier.dependents_of(i), f"depends on failed step {outcome.failed_step}")
        if self.plan.manifest.pipeline.on_failure == "stop":
            self._skip(
                self._frontier.give_up_all(), f"run stopped: step {outcome.failed_step} failed"
            )

    def _skip(self, indices: list[int], reason: str) -> None:
        for i in indices:
            for name in self.plan.units[i].names:
                self._results[name].status = StepStatus.SKIPPED
                self.bus.emit(StepSkipped(self.run_id, name, reason))

    def _abort_running(self, running: set[int], finished: queue.Queue[tuple[int, Outcome]]) -> None:
        """Cancel what runs and wait for it to roll back; a second Ctrl-C stops the wait."""
        self._abort.set()
        self._cancellers.cancel_all()
        try:
            while running:
                i, _outcome = _next(finished)
                running.discard(i)
        except KeyboardInterrupt:
            pass

    def _work(self, i: int, finished: queue.Queue[tuple[int, Outcome]]) -> None:
        """A worker thread: run one unit and report whatever ended it to the scheduler."""
        outcome: Outcome
        try:
            outcome = self._run_unit(self.plan.units[i])
        except BaseException as exc:  # an abort, or a subscriber that must stop the run
            outcome = exc
        finished.put((i, outcome))

    # -- one unit -----------------------------------------------------------------------------

    def _run_unit(self, unit: Unit) -> UnitFailed | None:
        """Run a unit with its retry policy; returns the failure, or None once committed."""
        if all(name in self._recovered for name in unit.names):
            self._recover(unit)
            return None
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
            stop=stop_after_attempt(policy.max_retries + 1) | stop_when_event_set(self._abort),
            wait=wait_exponential(multiplier=policy.base, exp_base=2, max=policy.cap),
            retry=retry_if_exception_type(TransientError),
            sleep=self._backoff,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    staged = self._attempt(unit, attempts)
        except ExecutionError as exc:
            self._rolled_back(unit)
            failed = exc.step or unit.names[0]
            event = UnitFailed(
                self.run_id, unit.names, failed, attempts, self.masker.mask(exc.message)
            )
            self.bus.emit(event)
            return event
        except BaseException:
            self._rolled_back(unit)
            raise
        _put_in_place(staged, self.masker)
        self.bus.emit(UnitCommitted(self.run_id, unit.names, datetime.now()))
        return None

    def _recover(self, unit: Unit) -> None:
        """The ledger says an interrupted run committed this unit: record it, do not redo it."""
        for step in unit.steps:
            by = self._recovered[step.name][:8]
            index, total = self._index[step.name], len(self._index)
            self.bus.emit(StepStarted(self.run_id, step.name, step.kind, 0, index, total))
            line = f"already committed by run {by} (found in the ledger): not run again"
            self.bus.emit(StepOutput(self.run_id, step.name, line))
            self._results[step.name].status = StepStatus.SUCCESS
            self.bus.emit(
                StepSucceeded(self.run_id, step.name, step.kind, 0, 0.0, None, False, None)
            )
        self.bus.emit(UnitCommitted(self.run_id, unit.names, datetime.now()))

    def _rolled_back(self, unit: Unit) -> None:
        for name in unit.names:
            result = self._results[name]
            if result.status is StepStatus.SUCCESS and unit.transactional:
                result.status = StepStatus.ROLLED_BACK

    def _backoff(self, seconds: float) -> None:
        if self._sleep is time.sleep:
            self._abort.wait(seconds)  # an abort ends the wait
        else:
            self._sleep(seconds)

    def _attempt(self, unit: Unit, attempt: int) -> list[StagedFile]:
        """One try of the unit; returns its output files, written but not yet in place."""
        if self._abort.is_set():
            raise Aborted
        self.bus.emit(UnitStarted(self.run_id, unit.names, unit.group, unit.connection, attempt))
        staged: list[StagedFile] = []
        if not unit.transactional or unit.connection is None:
            try:
                for step in unit.steps:
                    self._run_step(unit, step, attempt, None, None, staged)
            except BaseException:
                _discard(staged)
                raise
            return staged
        conn, dialect = self._connections.checkout(unit.connection)
        self._cancellers.add(unit.names[0], lambda: cancel_statement(conn, dialect))
        failed: BaseException | None = None
        try:
            with database_errors(masker=self.masker):
                transaction = conn.begin()
            try:
                self._in_transaction(unit, attempt, conn, dialect, staged)
            except BaseException:
                self._roll_back(transaction)
                raise
            with self._unit_end(unit.steps[-1], attempt, "could not commit"):
                transaction.commit()
            return staged
        except BaseException as exc:
            failed = exc
            _discard(staged)
            raise
        finally:
            self._cancellers.drop(unit.names[0])
            self._connections.checkin(unit.connection, conn, dialect, failed)

    def _in_transaction(
        self,
        unit: Unit,
        attempt: int,
        conn: Connection,
        dialect: Dialect,
        staged: list[StagedFile],
    ) -> None:
        """The unit's steps, then its ledger row: everything that commits together."""
        ledger = self._ledgers.get(unit.connection or "")
        wrote = None
        if ledger is not None:
            with self._unit_end(unit.steps[0], attempt, "could not start the ledger's write probe"):
                wrote = dialect.write_probe(conn)
        for step in unit.steps:
            self._run_step(unit, step, attempt, conn, dialect, staged)
        if self._abort.is_set():
            raise Aborted  # cancelled after its last statement: roll back, not commit
        if ledger is None:
            return
        last = unit.steps[-1]
        with self._unit_end(last, attempt, "could not tell whether the unit wrote anything"):
            writes = wrote is None or wrote()
        if writes:
            with self._unit_end(last, attempt, f"could not record the unit in {ledger.table.name}"):
                ledger.record(conn, unit.names, self.run_id)  # commits with the work

    def _roll_back(self, transaction: RootTransaction) -> None:
        """Undo the unit; a database error doing so is not what the user needs to hear."""
        try:
            with database_errors(masker=self.masker):
                transaction.rollback()
        except ExecutionError:
            pass  # the error that caused the rollback goes on; the connection is given up

    @contextmanager
    def _unit_end(self, step: PreparedStep, attempt: int, what: str) -> Iterator[None]:
        """Database work of the unit itself (not of a step): a failure fails ``step``, saying
        what failed, so that the result, the log and the console carry the database's message
        (a deferred constraint, a lock held at COMMIT)."""
        try:
            with database_errors(masker=self.masker):
                yield
        except ExecutionError as exc:
            error = exc.with_context(step=step.name, prefix=what)
            if not self._abort.is_set():
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
                        ErrorKind.of(error),
                    )
                )
            raise error from exc

    def _run_step(
        self,
        unit: Unit,
        step: PreparedStep,
        attempt: int,
        conn: Connection | None,
        dialect: Dialect | None,
        staged: list[StagedFile],
    ) -> StepOutcome:
        if self._abort.is_set():
            raise Aborted
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
            on_cancel=lambda cancel: self._cancellers.add(unit.names[0], cancel),
        )
        started = time.monotonic()
        try:
            outcome = get_kind(step.kind).execute(step, ctx)
            if outcome.output is not None and outcome.output_file is not None:
                # Written now, renamed into place after the commit: a file that cannot be
                # written fails the step and rolls its unit back, ledger row included.
                staged.append(stage_output(outcome.output_file, outcome.output))
        except ExecutionError as exc:
            if self._abort.is_set():
                raise Aborted from exc  # cancelled by the abort: not a failure of the step
            duration = time.monotonic() - started
            error = exc.with_context(step=step.name, mask=self.masker.mask)
            result.status, result.duration, result.error = (
                StepStatus.FAILED,
                duration,
                error.message,
            )
            self.bus.emit(
                StepFailed(
                    self.run_id,
                    step.name,
                    step.kind,
                    attempt,
                    duration,
                    error.message,
                    ErrorKind.of(error),
                )
            )
            raise error from exc
        finally:
            if conn is None:
                self._cancellers.drop(unit.names[0])
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
                outcome.details,
            )
        )
        return outcome


def _put_in_place(staged: list[StagedFile], masker: Masker) -> None:
    """After the commit: rename each output file into place.

    The folder was checked when the file was written, so this fails only if the target
    changed meanwhile; the rows are then kept in the temp file, which the warning names.
    """
    for file in staged:
        try:
            file.rename()
        except OSError as exc:
            LOGGER.warning(
                "%s",
                masker.mask(
                    f"could not move output file into place ({exc.strerror}): its rows are in "
                    f"{file.tmp}; move it to {file.path}"
                ),
            )


def _discard(staged: list[StagedFile]) -> None:
    for file in staged:
        file.discard()


def _next(finished: queue.Queue[tuple[int, Outcome]]) -> tuple[int, Outcome]:
    """The next unit to end; waits in short slices so that Ctrl-C is seen at once."""
    while True:
        try:
            return finished.get(timeout=0.2)
        except queue.Empty:
            continue
