"""Recovery: a step's ``rollback:`` and the decision that follows its failure.

When a step fails for good and declares a rollback, the rollback runs once: SQL in its own
transaction on the step's connection, a python script, or (``type: restore``) the failed
step's own kind's ``restore``, which puts back the last good version of the files it writes.
The decision matrix for rollbacks then says what follows: the rollback succeeded and the step
says ``continue_on_rollback: true`` → the steps that depend on it still run and the run ends
``partial_success``; the rollback failed, or none was declared, or the step does not say so →
its dependents are skipped and the run ends ``failed``.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ordo.db.errors import database_errors
from ordo.errors import ExecutionError
from ordo.events import EventBus, RollbackFinished, RollbackStarted, StepOutput
from ordo.kinds import get_kind
from ordo.kinds.base import ExecutionContext, Kind, PreparedRestore, PreparedStep, restorer
from ordo.runner.unit import unit_transaction

if TYPE_CHECKING:
    from ordo.masking import Masker
    from ordo.planning.model import Plan
    from ordo.runner.connections import Connections

__all__ = ["run_rollback"]


def run_rollback(
    plan: Plan,
    step_name: str,
    *,
    run_id: str,
    bus: EventBus,
    masker: Masker,
    connections: Connections,
) -> bool:
    """Run the failed step's rollback, if it has one; True when its dependents may run."""
    rollback = plan.rollbacks.get(step_name)
    if rollback is None:
        return False
    failed = next(s for s in plan.steps if s.name == step_name)
    go_on = failed.options.continue_on_rollback
    bus.emit(RollbackStarted(run_id, step_name))
    started = time.monotonic()
    ctx = ExecutionContext(
        run_id=run_id, project=plan.project, settings=plan.settings, masker=masker, attempt=1
    )
    kind = get_kind(rollback.kind)
    error: str | None = None
    try:
        with database_errors(masker=masker):
            if isinstance(rollback, PreparedRestore):  # what it found and put back is shown
                ctx.log_line = lambda line: bus.emit(
                    StepOutput(run_id, step_name, masker.mask(line))
                )
                _restore(kind, rollback, ctx)
            else:
                _execute(kind, rollback, ctx, connections, masker)
    except ExecutionError as exc:
        error = masker.mask(exc.message)
    except OSError as exc:  # a file the restore needed could not be read or written
        error = masker.mask(f"restore failed: {exc}")
    duration = time.monotonic() - started
    succeeded = error is None
    action = "ROLLBACK_TO_BACKUP" if isinstance(rollback, PreparedRestore) else "ROLLBACK"
    bus.emit(RollbackFinished(run_id, step_name, succeeded, duration, error, go_on, action))
    return succeeded and go_on


def _restore(kind: Kind[Any, Any], rollback: PreparedRestore, ctx: ExecutionContext) -> None:
    """The failed step's kind puts back its last good files (planning checked it can)."""
    restoring = restorer(kind)
    if restoring is None:  # the plan refuses this; a kind swapped since would be a bug
        raise RuntimeError(f"kind {kind.name} cannot restore")
    restoring.restore(rollback.step, ctx)


def _execute(
    kind: Kind[Any, Any],
    rollback: PreparedStep,
    ctx: ExecutionContext,
    connections: Connections,
    masker: Masker,
) -> None:
    """The rollback step on its own: SQL in a transaction of its own, a script as it is."""
    if rollback.connection is None:
        kind.execute(rollback, ctx)
        return
    with unit_transaction(connections, rollback.connection, masker) as (conn, dialect):
        if kind.transactional(dialect):  # asked with this database, as the plan does
            kind.execute(rollback, replace(ctx, connection=conn, dialect=dialect))
            return
    kind.execute(rollback, ctx)  # it works outside any transaction of ours
