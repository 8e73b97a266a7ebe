"""``migrate`` steps: apply a connection's pending migrations as one step of a manifest.

The migration files are found and checked at plan time, so a manifest whose migrations are
misnamed or duplicated, or use a ``${placeholder}`` without a value, never starts. Each
migration has its own transaction (where the dialect allows), so a migrate step cannot join
a transaction group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pydantic import ConfigDict

from ordo._words import plural
from ordo.errors import OrdoError, StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect

__all__ = ["MigrateKind", "MigrateOptions", "PreparedMigrate"]


class MigrateOptions(StepOptions):
    model_config = ConfigDict(coerce_numbers_to_str=True)  # `placeholders: {n: 3}` is "3"

    target: str | None = None
    out_of_order: bool = False
    mixed: bool | None = None  # None: the connection's _MIGRATIONS_MIXED setting
    placeholders: dict[str, str] | None = None  # added to the connection's _PLACEHOLDERS_*
    # None: the connection's _MIGRATIONS_PLACEHOLDER_REPLACEMENT setting
    placeholder_replacement: bool | None = None


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
        from ordo.migrations.placeholders import Placeholders

        connection = ctx.require_connection()
        try:
            settings = ctx.settings.connection(connection)
            folder = settings.migrations
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
        prefix = f"{ctx.settings.env_name.upper()}_GLOBAL_{connection.upper()}_"
        placeholders = Placeholders(
            settings.placeholders,
            settings.placeholder_replacement,
            setting=f"{prefix}PLACEHOLDERS_",
            switch=f"{prefix}MIGRATIONS_PLACEHOLDER_REPLACEMENT",
        )
        placeholders = placeholders.overridden(
            options.placeholders, options.placeholder_replacement
        )
        if missing := placeholders.check(files):
            problem = missing[0]
            raise StepProblem(problem.message, key="placeholders", hint=problem.hint)
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
                placeholders=step.options.placeholders,
                placeholder_replacement=step.options.placeholder_replacement,
            )
        for applied in result.applied:
            ctx.log_line(f"applied {applied.script} ({applied.execution_time_ms} ms)")
        return StepOutcome(rows=len(result.applied))
