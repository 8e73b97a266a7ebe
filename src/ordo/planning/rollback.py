"""A step's ``rollback:``, prepared at plan time like a step (files found, templates rendered).

``type: restore`` is the exception: it runs no file of its own but the failed step's kind's
``restore``, so it is prepared as a ``PreparedRestore`` holding the step itself, and refused at
plan time on a step whose kind cannot restore (it is not ``Restorable``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ordo.errors import StepProblem
from ordo.kinds import available_kinds, get_kind
from ordo.kinds.base import PrepareContext, PreparedRestore, PreparedStep, restorer

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["prepare_rollback"]


def prepare_rollback(
    step: PreparedStep,
    ctx: PrepareContext,
    default_connection: str,
    dialect_of: Callable[[str], Dialect | None],
) -> PreparedStep:
    """The rollback of a prepared step, prepared like a step (files found, templates
    rendered), or a ``PreparedRestore`` of the step itself."""
    options = step.options
    body = options.rollback
    assert body is not None
    if body.type == "restore":
        return _restore(step)
    kind = get_kind(body.type)
    values: dict[str, object] = {
        "name": f"{options.name} (rollback)",
        "type": body.type,
        "params": options.params,
        "timeout": body.timeout,
    }
    values.update({k: v for k, v in (("sql", body.sql), ("file", body.file)) if v is not None})
    if body.type == "sql":  # undoing a step often takes several statements: run each in turn
        values["split_statements"] = True
    connection = (options.connection or default_connection) if kind.uses_connection else None
    dialect = dialect_of(connection) if connection else None
    rollback_ctx = replace(
        ctx,
        connection=connection,
        dialect=dialect,
        renderer=ctx.renderer.for_dialect(dialect),
        group=None,
    )
    prepared: PreparedStep = kind.prepare(kind.options_model.model_validate(values), rollback_ctx)
    return prepared


def _restore(step: PreparedStep) -> PreparedRestore:
    if restorer(get_kind(step.kind)) is None:
        able = [name for name in available_kinds() if restorer(get_kind(name)) is not None]
        raise StepProblem(
            f"type restore: a {step.kind} step cannot restore what it wrote "
            f"(the kinds that can: {', '.join(able) or 'none installed'})",
            hint="use a sql or python rollback for this step, or remove the rollback",
        )
    return PreparedRestore(
        name=f"{step.name} (rollback)",
        kind=step.kind,
        options=step.options,
        connection=None,
        group=None,
        line=step.line,
        step=step,
    )
