"""A rehearsal: every SQL step of a plan run for real, then all of it rolled back.

It answers "would this run work tonight?" against the real database: each SQL unit runs inside
one transaction per connection (and its own savepoint where the database has them, so one
failing unit does not hide the next), every step reports its rows, time and error, and at the
end every transaction is rolled back. Python and migrate steps work outside any transaction,
so they are listed as not rehearsed. Only databases whose DDL is transactional can rehearse:
elsewhere a ``CREATE TABLE`` would commit on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ordo.db.connect import connect
from ordo.db.dialects import dialect_for
from ordo.db.errors import database_errors
from ordo.errors import ExecutionError, InvalidInput
from ordo.events import EventBus, RunStatus, StepSkipped, UnitCommitted
from ordo.runner.bookkeeping import Results
from ordo.runner.result import RunResult, StepStatus
from ordo.runner.steps import StepRunner

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo.db.dialects import Dialect
    from ordo.db.engines import EngineRegistry
    from ordo.masking import Masker
    from ordo.planning.model import Plan, Unit

__all__ = ["Rehearsal", "check_rehearsable"]


def check_rehearsable(plan: Plan) -> None:
    """Refuse, before anything runs, a plan with DDL on a database whose DDL commits on its own.

    Only the steps that hold such DDL (the plan knows them: ``implicit_commits``) or may run
    it unseen (a PL/SQL block) are refused: checks and plain DML roll back on MySQL and
    MariaDB as anywhere, so ``ordo check`` works there too."""
    for unit in plan.units:
        if not unit.transactional or unit.connection is None:
            continue
        dialect = dialect_for(plan.settings.connection(unit.connection).url.drivername)
        if dialect.transactional_ddl:
            continue
        for step in unit.steps:
            if step.implicit_commits or step.kind == "plsql":
                raise InvalidInput(
                    f"cannot rehearse on connection '{unit.connection}' ({dialect.backend}): "
                    f"step '{step.name}' holds DDL, which commits on its own there, so what a "
                    "rehearsal did could not be rolled back",
                    hint="rehearse against PostgreSQL, SQLite or DuckDB, or run --dry-run instead",
                )


class Rehearsal:
    """Runs a plan's SQL units once each, in order, and rolls everything back."""

    def __init__(
        self, plan: Plan, *, run_id: str, bus: EventBus, masker: Masker, engines: EngineRegistry
    ) -> None:
        self.plan, self.run_id, self.bus, self.masker = plan, run_id, bus, masker
        self.engines = engines
        self._open: dict[str, tuple[Connection, Dialect]] = {}
        self._broken: dict[str, str] = {}  # connection -> the step that ended its rehearsal
        self._results = Results(plan.steps)
        self._steps = StepRunner(
            plan, run_id=run_id, bus=bus, masker=masker, results=self._results, rehearsal=True
        )

    def execute(self) -> RunResult:
        started = self._results.start_run(self.bus, self.run_id, self.plan)
        try:
            for unit in self.plan.units:
                self._unit(unit)
        finally:
            with database_errors(masker=self.masker):
                for conn, _dialect in self._open.values():
                    conn.rollback()  # the point of a rehearsal: nothing stays
                    conn.close()
        failed = self._results.first_failed()
        return self._results.finish_run(
            self.bus,
            self.run_id,
            self.plan,
            RunStatus.FAILED if failed else RunStatus.SUCCESS,
            started,
            completed=self._results.with_status(StepStatus.SUCCESS),
            failed_step=failed.name if failed else None,
            error=failed.error if failed else None,
        )

    def _skip(self, unit: Unit, reason: str) -> None:
        for name in unit.names:
            self._results.skipped(name, reason)
            self.bus.emit(StepSkipped(self.run_id, name, reason))

    def _unit(self, unit: Unit) -> None:
        if not unit.transactional or unit.connection is None:
            self._skip(unit, "not rehearsed: it works outside any transaction")
            return
        if unit.connection in self._broken:
            by = self._broken[unit.connection]
            self._skip(unit, f"not rehearsed: '{by}' failed and this database has no savepoints")
            return
        conn, dialect = self._connection(unit.connection)
        with database_errors(masker=self.masker):
            savepoint = conn.begin_nested() if dialect.supports_savepoints else None
        try:
            for step in unit.steps:
                self._steps.run(step, 1, conn, dialect, unit_key=unit.names[0])
        except ExecutionError:
            if savepoint is not None:
                with database_errors(masker=self.masker):
                    savepoint.rollback()
            else:
                self._broken[unit.connection] = next(
                    n for n in unit.names if self._results[n].status is StepStatus.FAILED
                )
            return
        if savepoint is not None:
            with database_errors(masker=self.masker):
                savepoint.commit()  # released into the outer transaction, rolled back at the end
        self.bus.emit(UnitCommitted(self.run_id, unit.names, datetime.now(), rehearsal=True))

    def _connection(self, name: str) -> tuple[Connection, Dialect]:
        if name not in self._open:
            settings = self.plan.settings.connection(name)
            conn = connect(self.engines.for_connection(settings), settings, self.masker)
            with database_errors(masker=self.masker):
                conn.begin()
            self._open[name] = (conn, dialect_for(conn))
        return self._open[name]
