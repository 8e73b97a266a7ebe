"""Executes a plan: units in dependency order, each in its transaction, retried when transient.

The runner owns transactions, retries and scheduling and nothing else: what a step does
belongs to its kind, and what happens because of a step (console, log, manifest state,
notices) belongs to the event subscribers. A unit's steps are reported done only after its
transaction commits.

Scheduling. A unit starts once every unit it waits for has committed (``runner.frontier``),
at most ``max_parallel`` at a time (and within each database's bounds, ``runner.lanes``), the
earliest in plan order first. Where it runs is the executor's business (``runner.executors``):
with ``max_parallel: 1`` (the default) units run one after the other on the calling thread,
exactly as written; above that, each running unit has a thread and a connection of its
own. How one unit runs (retries, transaction, ledger row, steps) is ``runner.unit``'s.
Connections are checked out of the engine's pool as units need them and kept for the next unit
on the same connection until the run ends (a checkout costs a ping and a rollback, a third of
ordo's own time per step on PostgreSQL).

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

import queue
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ordo.errors import OrdoError
from ordo.events import EventBus, RunStatus, StepSkipped, UnitFailed
from ordo.runner.bookkeeping import Results
from ordo.runner.connections import Cancellers, Connections
from ordo.runner.executors import Executor, Finished, Outcome, executor_for
from ordo.runner.frontier import Frontier
from ordo.runner.lanes import Lanes
from ordo.runner.recovery import run_rollback
from ordo.runner.result import RunResult
from ordo.runner.unit import UnitExecutor, Wait, abortable_wait

if TYPE_CHECKING:
    from ordo.db.engines import EngineRegistry
    from ordo.masking import Masker
    from ordo.planning.model import Plan
    from ordo.runner.ledger import Ledger

__all__ = ["Reconcile", "Runner"]

Reconcile = Callable[[], tuple[Mapping[str, "Ledger"], Mapping[str, str]]]
"""Reads the ledgers once the run has started: theirs by connection, and the steps that an
interrupted run already committed (see ``runner.ledger.reconcile``)."""


class Runner:
    """Runs one plan once; see the module docstring for how units are scheduled.

    ``wait(seconds, abort)`` is how a unit waits before a retry (an abort must end it);
    ``executor`` where ready units run (inline for ``max_parallel: 1``, else threads).
    ``reconcile`` reads the ledgers after the run has started, so that a database that
    cannot be reached fails a run that is recorded and logged, not one that never began.
    """

    def __init__(
        self,
        plan: Plan,
        *,
        run_id: str,
        bus: EventBus,
        masker: Masker,
        engines: EngineRegistry,
        wait: Wait = abortable_wait,
        ledgers: Mapping[str, Ledger] | None = None,
        recovered: Mapping[str, str] | None = None,
        executor: Executor | None = None,
        reconcile: Reconcile | None = None,
    ) -> None:
        self.plan = plan
        self.run_id = run_id
        self.bus = bus
        self.masker = masker
        self._results = Results(plan.steps)
        self._abort = threading.Event()
        self._frontier = Frontier([unit.depends_on for unit in plan.units])
        self._lanes = Lanes(plan)
        self._connections = Connections(plan.settings, engines, masker, self._lanes.exclusive)
        self._executor = executor or executor_for(self._lanes.parallelism())
        self._cancellers = Cancellers(self._abort)
        self._units = UnitExecutor(
            plan,
            run_id=run_id,
            bus=bus,
            masker=masker,
            results=self._results,
            connections=self._connections,
            cancellers=self._cancellers,
            abort=self._abort,
            wait=wait,
            ledgers=ledgers,
            recovered=recovered,
        )
        self._reconcile = reconcile
        self._completed: list[str] = []
        self._failures: list[UnitFailed] = []
        self._recovered_failures: list[UnitFailed] = []  # rolled back, dependents went on

    def execute(self) -> RunResult:
        started = self._results.start_run(self.bus, self.run_id, self.plan)
        status = RunStatus.SUCCESS
        run_error: str | None = None
        try:
            run_error = self._read_ledgers()
            if run_error is None:
                self._schedule()
                status = self._status()
            else:
                status = RunStatus.FAILED
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
            result = self._results.finish_run(
                self.bus,
                self.run_id,
                self.plan,
                status,
                started,
                completed=tuple(self._completed),
                failed_step=failure.failed_step if failure else None,
                error=failure.error if failure else run_error,
            )
        return result

    def _read_ledgers(self) -> str | None:
        """Before any unit; a failure (the database cannot be reached) fails the run as a
        whole, and its record, log and result say why. No step failed, so none is blamed."""
        if self._reconcile is None:
            return None
        try:
            self._units.use_ledgers(*self._reconcile())
        except OrdoError as exc:
            return self.masker.mask(str(exc))
        return None

    # -- scheduling ---------------------------------------------------------------------------

    def _schedule(self) -> None:
        """Start what may start, wait for one unit to end, decide what follows; until done."""
        units, frontier, lanes = self.plan.units, self._frontier, self._lanes
        parallel = lanes.parallelism()
        finished: Finished = queue.Queue()
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
                    running.add(i)
                    try:
                        self._executor.submit(i, self._work(i), finished)
                    except BaseException:
                        running.discard(i)  # it ended on this thread and put nothing
                        raise
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

    def _work(self, i: int) -> Callable[[], UnitFailed | None]:
        unit = self.plan.units[i]
        return lambda: self._units.run(unit)

    def _status(self) -> RunStatus:
        """Failures all recovered by their rollbacks make a partial success."""
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
                self._results.skipped(name)
                self.bus.emit(StepSkipped(self.run_id, name, reason))

    def _abort_running(self, running: set[int], finished: Finished) -> None:
        """Cancel what runs and wait for it to roll back; a second Ctrl-C stops the wait."""
        self._abort.set()
        self._cancellers.cancel_all()
        try:
            while running:
                i, _outcome = _next(finished)
                running.discard(i)
        except KeyboardInterrupt:
            pass


def _next(finished: Finished) -> tuple[int, Outcome]:
    """The next unit to end; waits in short slices so that Ctrl-C is seen at once."""
    while True:
        try:
            return finished.get(timeout=0.2)
        except queue.Empty:
            continue
