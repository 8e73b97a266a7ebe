"""``migrate`` steps: apply a connection's pending migrations as one step of a manifest.

The migration files are found and checked at plan time, so a manifest whose migrations are
misnamed or duplicated never starts. Each migration has its own transaction (where the dialect
allows), so a migrate step cannot join a transaction group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ordo.errors import OrdoError, StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOptions, StepOutcome

__all__ = ["MigrateKind", "MigrateOptions"]


class MigrateOptions(StepOptions):
    target: str | None = None
    out_of_order: bool = False


@dataclass(frozen=True)
class PreparedMigrate(PreparedStep):
    pending_files: int = 0


class MigrateKind:
    name: ClassVar[str] = "migrate"
    label: ClassVar[str] = "MIGRATE"
    options_model: ClassVar[type[StepOptions]] = MigrateOptions
    transactional: ClassVar[bool] = False
    uses_connection: ClassVar[bool] = True

    def prepare(self, options: StepOptions, ctx: PrepareContext) -> PreparedStep:
        from ordo.migrations.files import discover

        assert isinstance(options, MigrateOptions)
        assert ctx.connection is not None
        try:
            folder = ctx.settings.connection(ctx.connection).migrations
        except OrdoError as exc:
            raise StepProblem(exc.message, key="connection", hint=exc.hint) from exc
        if folder is None or not folder.is_dir():
            raise StepProblem(
                f"no migrations folder for connection '{ctx.connection}' (looked for {folder})",
                key="connection",
                hint="create it or set {ENV}_GLOBAL_{NAME}_MIGRATIONS",
            )
        try:
            files = discover(folder)
        except OrdoError as exc:
            raise StepProblem(str(exc), key="connection", hint=exc.hint) from exc
        return PreparedMigrate(
            name=options.name,
            kind=self.name,
            options=options,
            connection=ctx.connection,
            group=ctx.group,
            line=ctx.line,
            summary=f"- {len(files)} migration file(s) in {folder.name}/",
            pending_files=len(files),
        )

    def execute(self, step: PreparedStep, ctx: ExecutionContext) -> StepOutcome:
        from ordo.migrations.migrator import migrator_for

        assert isinstance(step.options, MigrateOptions)
        assert step.connection is not None
        with migrator_for(ctx.settings, step.connection) as migrator:
            result = migrator.migrate(
                target=step.options.target, out_of_order=step.options.out_of_order
            )
        for applied in result.applied:
            ctx.log_line(f"applied {applied.script} ({applied.execution_time_ms} ms)")
        return StepOutcome(rows=len(result.applied))
