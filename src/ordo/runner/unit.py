"""Running one unit: retries, its transaction, its ledger row, its steps, and its events.

A unit is tried with its retry policy (tenacity: exponential backoff, transient errors only,
an abort ends the wait). Each try runs the unit's steps on one connection inside one
transaction (``unit_transaction``, which the recovery's rollback step uses too), writes the
ledger row in that same transaction, and commits. Database work of the unit itself (the
ledger's write probe and row, the commit) that fails is reported as a failure of a step,
saying what failed, so that the result, the log and the console carry the database's message
(a deferred constraint, a lock held at COMMIT). Output files are renamed into place after the
commit; a unit that rolls back leaves none.

A ``transaction: false`` unit runs on a connection in autocommit instead, with no ledger row.
Where DDL commits on its own (``allow_implicit_commit``), the steps it committed are reported
as committed even if the unit then fails, and a retry runs only the rest (``_Committed``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from ordo._files import StagedFile
from ordo.db.errors import database_errors
from ordo.errors import CannotConnect, ExecutionError, TransientError
from ordo.events import (
    EventBus,
    StepOutput,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
    UnitStarted,
)
from ordo.kinds.base import PreparedStep
from ordo.runner.connections import Cancellers, Connections, cancel_statement
from ordo.runner.steps import Aborted, StepRunner

if TYPE_CHECKING:
    from sqlalchemy import Connection, RootTransaction
    from tenacity import RetryCallState, Retrying

    from ordo.db.dialects import Dialect
    from ordo.masking import Masker
    from ordo.planning.model import Plan, Unit
    from ordo.runner.bookkeeping import Results
    from ordo.runner.ledger import Ledger

__all__ = ["Aborted", "UnitExecutor", "Wait", "abortable_wait", "unit_transaction"]

LOGGER = logging.getLogger("ordo")

Wait = Callable[[float, threading.Event], None]
"""How to wait ``seconds`` before a retry; an abort (the event set) should end the wait."""


def abortable_wait(seconds: float, abort: threading.Event) -> None:
    abort.wait(seconds)


@contextmanager
def unit_transaction(
    connections: Connections,
    name: str,
    masker: Masker,
    *,
    commit: Callable[[RootTransaction], None] | None = None,
    on_connect_failure: Callable[[CannotConnect], None] | None = None,
) -> Iterator[tuple[Connection, Dialect]]:
    """A connection of the run in a transaction: committed after the block, rolled back if it
    raises. The connection goes back to the run, or is given up after a failure.

    ``on_connect_failure`` hears a ``CannotConnect`` first (the block never ran).
    """
    try:
        conn, dialect = connections.checkout(name)
    except CannotConnect as exc:
        if on_connect_failure is not None:
            on_connect_failure(exc)
        raise
    failed: BaseException | None = None
    try:
        with database_errors(masker=masker):
            transaction = conn.begin()
        try:
            yield conn, dialect
        except BaseException:
            _roll_back(transaction, masker)
            raise
        if commit is not None:
            commit(transaction)
        else:
            with database_errors(masker=masker):
                transaction.commit()
    except BaseException as exc:
        failed = exc
        raise
    finally:
        connections.checkin(name, conn, dialect, failed)


def _roll_back(transaction: RootTransaction, masker: Masker) -> None:
    """Undo the unit; a database error doing so is not what the user needs to hear."""
    try:
        with database_errors(masker=masker):
            transaction.rollback()
    except ExecutionError:
        pass  # the error that caused the rollback goes on; the connection is given up


class UnitExecutor:
    """Runs the units of one run, one at a time per call; safe to call from several threads."""

    def __init__(
        self,
        plan: Plan,
        *,
        run_id: str,
        bus: EventBus,
        masker: Masker,
        results: Results,
        connections: Connections,
        cancellers: Cancellers,
        abort: threading.Event,
        wait: Wait = abortable_wait,
        ledgers: Mapping[str, Ledger] | None = None,
        recovered: Mapping[str, str] | None = None,
    ) -> None:
        self.run_id, self.bus, self.masker, self.results = run_id, bus, masker, results
        self.connections, self.cancellers, self.abort = connections, cancellers, abort
        self._wait = wait
        self._ledgers = dict(ledgers or {})  # connection name -> its ledger
        self._recovered = dict(recovered or {})  # step -> the run that committed it
        self.steps = StepRunner(
            plan,
            run_id=run_id,
            bus=bus,
            masker=masker,
            results=results,
            abort=abort,
            cancellers=cancellers,
        )

    def use_ledgers(self, ledgers: Mapping[str, Ledger], recovered: Mapping[str, str]) -> None:
        """The ledgers read once the run has started (``Runner(reconcile=...)``)."""
        self._ledgers = dict(ledgers)
        self._recovered = dict(recovered)

    def run(self, unit: Unit) -> UnitFailed | None:
        """Run a unit with its retry policy; returns the failure, or None once committed."""
        if all(name in self._recovered for name in unit.names):
            self._recover(unit)
            return None
        policy = unit.retry
        attempts = 0
        committed = _Committed()

        try:
            attempts = 1
            try:
                staged = self._attempt(unit, attempts, committed)
            except TransientError as first:
                if policy.max_retries == 0:
                    raise
                for attempt in self._retrying(unit):
                    with attempt:
                        attempts = attempt.retry_state.attempt_number
                        if attempts == 1:
                            raise first  # the try made above: tenacity decides what follows
                        staged = self._attempt(unit, attempts, committed)
        except ExecutionError as exc:
            rest = committed.rest(unit)
            failed = exc.step or (rest or unit.names)[0]
            error = self.masker.mask(exc.message)
            event = UnitFailed(
                self.run_id,
                rest,
                failed,
                attempts,
                error,
                committed=tuple(committed.steps),
                uncertain=committed.uncertain,
                # a unit that never got its connection had no transaction to roll back
                transactional=unit.transactional and not isinstance(exc, CannotConnect),
            )
            self.results.rolled_back(event.rolled_back)
            self.results.may_be_committed(event.uncertain)
            self.bus.emit(event)
            return event
        except BaseException:
            if unit.transactional:
                self.results.rolled_back(committed.rest(unit))
            raise
        _put_in_place(staged, self.masker)
        self.bus.emit(UnitCommitted(self.run_id, committed.untold(unit), datetime.now()))
        return None

    def _retrying(self, unit: Unit) -> Retrying:
        """Tenacity's loop for a unit whose first try failed on a transient error: backoff,
        transient errors only, stopped early by an abort. Built only then: every unit went
        through it before, which cost tens of microseconds a step (and tenacity's import)."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt
        from tenacity.stop import stop_when_event_set
        from tenacity.wait import wait_exponential

        policy = unit.retry

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            attempt = state.attempt_number
            delay = state.upcoming_sleep
            error = self.masker.mask(str(exc))
            self.bus.emit(UnitRetrying(self.run_id, unit.names, attempt, attempt + 1, delay, error))

        return Retrying(
            stop=stop_after_attempt(policy.max_retries + 1) | stop_when_event_set(self.abort),
            wait=wait_exponential(multiplier=policy.base, exp_base=2, max=policy.cap),
            retry=retry_if_exception_type(TransientError),
            sleep=lambda seconds: self._wait(seconds, self.abort),
            before_sleep=before_sleep,
            reraise=True,
        )

    def _recover(self, unit: Unit) -> None:
        """The ledger says an interrupted run committed this unit: record it, do not redo it."""
        for step in unit.steps:
            by = self._recovered[step.name][:8]
            self.steps.started(step, 0)
            line = f"already committed by run {by} (found in the ledger): not run again"
            self.bus.emit(StepOutput(self.run_id, step.name, line))
            self.results.recovered(step.name)
            self.bus.emit(
                StepSucceeded(self.run_id, step.name, step.kind, 0, 0.0, None, False, None)
            )
        by_run = self._recovered[unit.names[0]]
        self.bus.emit(UnitCommitted(self.run_id, unit.names, datetime.now(), committed_by=by_run))

    def _attempt(self, unit: Unit, attempt: int, committed: _Committed) -> list[StagedFile]:
        """One try of the unit; returns its output files, written but not yet in place."""
        if self.abort.is_set():
            raise Aborted
        self.bus.emit(UnitStarted(self.run_id, unit.names, unit.group, unit.connection, attempt))
        key = unit.names[0]
        staged: list[StagedFile] = []
        try:
            if unit.autocommit and unit.connection is not None:
                self._outside_transaction(unit, unit.connection, attempt, staged)
                return staged
            if not unit.transactional or unit.connection is None:
                for step in unit.steps:
                    self.steps.run(step, attempt, None, None, unit_key=key, staged=staged)
                return staged
            commit = self._committer(unit.steps[-1], attempt)
            with unit_transaction(
                self.connections,
                unit.connection,
                self.masker,
                commit=commit,
                on_connect_failure=lambda exc: self._not_connected(
                    committed.first(unit), attempt, exc
                ),
            ) as (conn, dialect):
                self.cancellers.add(key, lambda: cancel_statement(conn, dialect))
                self._in_transaction(unit, attempt, conn, dialect, staged, committed)
            return staged
        except BaseException:
            for file in staged:
                file.discard()
            self._announce(committed)
            raise
        finally:
            self.cancellers.drop(key)

    def _announce(self, committed: _Committed) -> None:
        """Steps that DDL committed in a try that then failed: done, whatever follows."""
        steps = committed.unannounced()
        if steps:
            self.bus.emit(UnitCommitted(self.run_id, steps, datetime.now()))

    def _outside_transaction(
        self, unit: Unit, name: str, attempt: int, staged: list[StagedFile]
    ) -> None:
        """A ``transaction: false`` step: its statements in autocommit, no ledger row (there is
        no transaction to write it in), the connection given up if anything fails."""
        key, step = unit.names[0], unit.steps[0]
        try:
            conn, dialect = self.connections.checkout(name)
        except CannotConnect as exc:
            self._not_connected(step, attempt, exc)
            raise
        failed: BaseException | None = None
        try:
            self.cancellers.add(key, lambda: cancel_statement(conn, dialect))
            with self._unit_end(step, attempt, "could not turn on autocommit"):
                end = dialect.begin_autocommit(conn)
            for each in unit.steps:
                self.steps.run(each, attempt, conn, dialect, unit_key=key, staged=staged)
            if self.abort.is_set():
                raise Aborted
            with self._unit_end(step, attempt, "could not end autocommit"):
                end()
        except BaseException as exc:
            failed = exc
            raise
        finally:
            self.connections.checkin(name, conn, dialect, failed)

    def _in_transaction(
        self,
        unit: Unit,
        attempt: int,
        conn: Connection,
        dialect: Dialect,
        staged: list[StagedFile],
        committed: _Committed,
    ) -> None:
        """The unit's steps, then its ledger row: everything that commits together.

        Steps that DDL committed in an earlier try are not run again (``_Committed``).
        """
        ledger = self._ledgers.get(unit.connection or "")
        steps = [step for step in unit.steps if step.name not in committed.steps]
        if not steps:  # DDL committed them all in a try whose end failed: nothing is left
            return
        first, last = steps[0], steps[-1]
        wrote = None
        if ledger is not None:
            with self._unit_end(first, attempt, "could not start the ledger's write probe"):
                wrote = dialect.write_probe(conn)
        committed.begin()
        for step in steps:
            try:
                self.steps.run(step, attempt, conn, dialect, unit_key=unit.names[0], staged=staged)
            except BaseException:
                committed.failed(step)
                raise
            committed.ran(step)
        if self.abort.is_set():
            raise Aborted  # cancelled after its last statement: roll back, not commit
        if ledger is None:
            return
        with self._unit_end(last, attempt, "could not tell whether the unit wrote anything"):
            writes = wrote is None or wrote()
        if writes:
            with self._unit_end(last, attempt, f"could not record the unit in {ledger.table.name}"):
                ledger.record(conn, unit.names, self.run_id)  # commits with the work

    def _not_connected(self, step: PreparedStep, attempt: int, error: CannotConnect) -> None:
        """The unit's first step is where its connection is opened: it failed there."""
        if self.abort.is_set():
            return
        self.results.started(step.name, attempt)
        self.steps.started(step, attempt)
        self.steps.failed(step, attempt, error, 0.0)

    def _committer(self, last: PreparedStep, attempt: int) -> Callable[[RootTransaction], None]:
        def commit(transaction: RootTransaction) -> None:
            with self._unit_end(last, attempt, "could not commit"):
                transaction.commit()

        return commit

    @contextmanager
    def _unit_end(self, step: PreparedStep, attempt: int, what: str) -> Iterator[None]:
        """Database work of the unit itself: a failure fails ``step``, saying what failed."""
        try:
            with database_errors(masker=self.masker):
                yield
        except ExecutionError as exc:
            error = exc.with_context(step=step.name, prefix=what)
            if not self.abort.is_set():
                self.steps.failed(step, attempt, error)
            raise error from exc


class _Committed:
    """The steps of a unit that DDL committed on its own (MySQL, MariaDB, Oracle).

    Such a statement commits what ran before it in the transaction, and itself: those steps
    are done even if a later one fails, so they are reported as committed (never as rolled
    back) and a retry runs only the rest. A DDL statement that fails may have committed the
    steps before it as it began (MariaDB does when the table exists, not on a syntax error):
    those are ``uncertain``. Only steps that ``PreparedStep.implicit_commits`` names count,
    which the plan allows in a group only with ``allow_implicit_commit``.
    """

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.uncertain: tuple[str, ...] = ()
        self._pending: list[str] = []  # ran in this try since the last implicit commit
        self._announced = 0

    def begin(self) -> None:
        self._pending.clear()
        self.uncertain = ()

    def ran(self, step: PreparedStep) -> None:
        self._pending.append(step.name)
        if step.implicit_commits:
            self.steps.extend(self._pending)
            self._pending.clear()

    def failed(self, step: PreparedStep) -> None:
        self.uncertain = tuple(self._pending) if step.implicit_commits else ()

    def rest(self, unit: Unit) -> tuple[str, ...]:
        return tuple(name for name in unit.names if name not in self.steps)

    def first(self, unit: Unit) -> PreparedStep:
        """The unit's first step still to run (where a try opens its connection)."""
        return next((s for s in unit.steps if s.name not in self.steps), unit.steps[0])

    def unannounced(self) -> tuple[str, ...]:
        """Committed steps not yet told to the bus (once each)."""
        steps = tuple(self.steps[self._announced :])
        self._announced = len(self.steps)
        return steps

    def untold(self, unit: Unit) -> tuple[str, ...]:
        """Once the unit has committed: its steps that the bus has not heard of as committed."""
        told = set(self.steps[: self._announced])
        return tuple(name for name in unit.names if name not in told)


def _put_in_place(staged: list[StagedFile], masker: Masker) -> None:
    """After the commit: rename each output file into place.

    The target was checked when the file was written, so this fails only if it changed
    meanwhile; the rows are then kept in the temp file, which the warning names.
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
