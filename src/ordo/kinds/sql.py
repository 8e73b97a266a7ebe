"""``sql`` and ``plsql`` steps: one statement (or one PL/SQL block) per step, never split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import model_validator

from ordo.db.dialects import parse_table_name
from ordo.errors import StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions
from ordo.tabular import TabularResult

if TYPE_CHECKING:
    from ordo.db.dialects import Dialect, TableName

__all__ = ["PlsqlKind", "PreparedSql", "SqlKind", "SqlOptions"]

OUTPUT_FORMATS = (".csv", ".json")


class SqlOptions(StepOptions):
    file: str | None = None
    sql: str | None = None
    cleanup_target: str | None = None
    output_file: str | None = None
    # false: run in autocommit, outside any transaction (VACUUM, CREATE INDEX CONCURRENTLY):
    # never in a group, no ledger row, so a crash may run it again
    transaction: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> SqlOptions:
        if (self.file is None) == (self.sql is None):
            raise ValueError("give exactly one of 'file' or 'sql'")
        return self


@dataclass(frozen=True, kw_only=True)
class PreparedSql(PreparedStep[SqlOptions]):
    statement: str
    source: Path | None  # None: the statement is the inline ``sql``
    cleanup: TableName | None  # dropped (if it exists) before the statement runs
    output_file: Path | None


class SqlKind:
    """Runs the rendered file (or inline ``sql``) as one statement in the unit's transaction."""

    name: ClassVar[str] = "sql"
    label: ClassVar[str] = "SQL"
    extensions: ClassVar[tuple[str, ...]] = (".sql",)
    folder: ClassVar[str | None] = "sql"
    options_model: ClassVar[type[SqlOptions]] = SqlOptions
    uses_connection: ClassVar[bool] = True

    def transactional(self, dialect: Dialect | None) -> bool:
        """Always: the statement runs in the unit's transaction, which a group may share."""
        return True

    def prepare(self, options: SqlOptions, ctx: PrepareContext) -> PreparedSql:
        source: Path | None = None
        if options.file is not None:
            source = ctx.resolve_file(options.file, self.folder)
            try:
                template = source.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise StepProblem(f"cannot read {source}: {exc}", key="file") from exc
        else:
            template = options.sql or ""
        try:
            statement = ctx.renderer.render(template, ctx.params, name=str(source or "sql"))
        except StepProblem as exc:
            if source is not None:
                exc.file = source
            else:
                exc.key, exc.line = "sql", None
            raise
        if not statement.strip():
            raise StepProblem("the statement is empty", key="file" if source else "sql")

        cleanup: TableName | None = None
        summary = ""
        if options.cleanup_target is not None:
            try:
                if ctx.dialect is None:
                    cleanup = parse_table_name(options.cleanup_target)
                else:
                    cleanup = ctx.dialect.parse_table_name(options.cleanup_target)
            except ValueError as exc:
                raise StepProblem(
                    f"cleanup_target '{options.cleanup_target}' is not a valid "
                    f"[schema.]table name: {exc}",
                    key="cleanup_target",
                    hint='use letters, digits, _ and $, or "Quoted Name" for an exact name',
                ) from exc
            summary = f"- Cleanup: {options.cleanup_target}"

        output = None
        if options.output_file is not None:
            output = (ctx.project.root / options.output_file).resolve()
            if not ctx.project.contains(output):
                raise StepProblem(
                    f"output_file '{options.output_file}' is outside the project",
                    key="output_file",
                    hint="give a path inside the project folder, e.g. results/report.csv",
                )
            if output.suffix.lower() not in OUTPUT_FORMATS:
                raise StepProblem(
                    f"output_file '{options.output_file}' must end in .csv or .json",
                    key="output_file",
                )
            summary = (summary + f" - Output: {options.output_file}").strip()

        if not options.transaction:
            summary = (
                summary + " - No transaction: autocommit, no ledger row "
                "(may run again after a crash)"
            ).strip()

        return PreparedSql(
            **ctx.fields(self.name, options),
            summary=summary,
            autocommit=not options.transaction,
            implicit_commits=_implicit_commits(statement, source, options, ctx.dialect),
            statement=statement,
            source=source,
            cleanup=cleanup,
            output_file=output,
        )

    def execute(self, step: PreparedSql, ctx: ExecutionContext) -> StepOutcome:
        from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

        conn, dialect = ctx.database()
        timeout = step.options.timeout
        with database_errors(masker=ctx.masker, timeout=timeout):
            if step.cleanup is not None:
                dialect.drop_table_if_exists(conn, step.cleanup)
            with dialect.statement_timeout(conn, timeout):
                result = dialect.execute(conn, step.statement, fetch=step.output_file is not None)
        output = None
        if step.output_file is not None:
            output = TabularResult(result.columns or (), list(result.rows or []))
        return StepOutcome(rows=result.rowcount, output=output, output_file=step.output_file)


def _implicit_commits(
    statement: str, source: Path | None, options: SqlOptions, dialect: Dialect | None
) -> tuple[str, ...]:
    """What in the step commits on its own on ``dialect``: its cleanup's ``DROP TABLE`` and
    each DDL statement of the rendered SQL (``split_statements`` finds them), as messages
    name them. A PL/SQL block is one statement: DDL it runs dynamically is not seen."""
    if dialect is None or not dialect.ddl_commits_implicitly:
        return ()
    # deferred: the migrations package loads its migrator, which a plan rarely needs
    from ordo.migrations.statements import split_statements

    found = []
    if options.cleanup_target is not None:
        found.append(f"DROP TABLE {options.cleanup_target} (its cleanup_target)")
    where = source.name if source is not None else "its sql"
    for part in split_statements(statement, dialect.script_syntax):
        if dialect.commits_implicitly(part.sql):
            found.append(f"{part.first_line} (line {part.line} of {where})")
    return tuple(found)


class PlsqlKind(SqlKind):
    """A PL/SQL (or T-SQL, PL/pgSQL) block, sent whole; its trailing ``;`` belongs to the block."""

    name: ClassVar[str] = "plsql"
    label: ClassVar[str] = "PLSQL"
    # None of its own: a ``.sql`` file without ``type:`` is a sql step, as it always was.
    extensions: ClassVar[tuple[str, ...]] = ()
