"""``migrate`` steps: apply a connection's pending migrations as one step of a manifest.

The migration files are found and checked at plan time, so a manifest whose migrations are
misnamed or duplicated never starts. Each migration has its own transaction (where the dialect
allows), so a migrate step cannot join a transaction group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ordo._words import plural
from ordo.errors import OrdoError, StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["MigrateKind", "MigrateOptions", "PreparedMigrate"]


class MigrateOptions(StepOptions):
    target: str | None = None
    out_of_order: bool = False
    mixed: bool | None = None  # None: the connection's _MIGRATIONS_MIXED setting


@dataclass(frozen=True, kw_only=True)
class PreparedMigrate(PreparedStep[MigrateOptions]):
    pending_files: int  # migration files found at plan time (applied or not)


class MigrateKind:
    name: ClassVar[str] = "migrate"
    label: ClassVar[str] = "MIGRATE"
    extensions: ClassVar[tuple[str, ...]] = ()
    folder: ClassVar[str | None] = None  # its files are the connection's migrations folder
    options_model: ClassVar[type[MigrateOptions]] = MigrateOptions
    uses_connection: ClassVar[bool] = True

    def transactional(self, dialect: Dialect | None) -> bool:
        """Never: each migration commits on its own, so a migrate step joins no group."""
        return False

    def prepare(self, options: MigrateOptions, ctx: PrepareContext) -> PreparedMigrate:
        from ordo.migrations.files import discover  # kept off the import path of `ordo --help`

        connection = ctx.require_connection()
        try:
            folder = ctx.settings.connection(connection).migrations
        except OrdoError as exc:
            raise StepProblem(exc.message, key="connection", hint=exc.hint) from exc
        if folder is None or not folder.is_dir():
            raise StepProblem(
                f"no migrations folder for connection '{connection}' (looked for {folder})",
                key="connection",
                hint="create it or set {ENV}_GLOBAL_{NAME}_MIGRATIONS",
            )
        try:
            files = discover(folder)
        except OrdoError as exc:
            raise StepProblem(str(exc), key="connection", hint=exc.hint) from exc
        return PreparedMigrate(
            **ctx.fields(self.name, options),
            summary=f"- {plural(len(files), 'migration file')} in {folder.name}/",
            pending_files=len(files),
        )

    def execute(self, step: PreparedMigrate, ctx: ExecutionContext) -> StepOutcome:
        from ordo.migrations.migrator import migrator_for  # SQLAlchemy: not for `ordo --help`

        if step.connection is None:  # prepare resolved one; a hand-made step may lack it
            raise RuntimeError(f"migrate step '{step.name}' has no connection")
        with migrator_for(ctx.settings, step.connection) as migrator:
            result = migrator.migrate(
                target=step.options.target,
                out_of_order=step.options.out_of_order,
                mixed=step.options.mixed,
            )
        for applied in result.applied:
            ctx.log_line(f"applied {applied.script} ({applied.execution_time_ms} ms)")
        return StepOutcome(rows=len(result.applied))
