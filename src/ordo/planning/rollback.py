"""A step's ``rollback:``, prepared at plan time like a step (files found, templates rendered)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ordo.kinds import get_kind
from ordo.kinds.base import PrepareContext, PreparedStep
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["prepare_rollback"]


def prepare_rollback(
    options: StepOptions,
    ctx: PrepareContext,
    default_connection: str,
    dialect_of: Callable[[str], Dialect | None],
) -> PreparedStep:
    """The rollback of a step, prepared like a step (files found, templates rendered)."""
    body = options.rollback
    assert body is not None
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
