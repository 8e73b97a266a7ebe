"""``sql`` and ``plsql`` steps: one statement (or one PL/SQL block) per step, never split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import model_validator

from ordo._files import NotUtf8, read_utf8
from ordo.db.dialects import parse_table_name
from ordo.errors import ExecutionError, StepProblem
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

    @model_validator(mode="after")
    def _one_source(self) -> SqlOptions:
        if (self.file is None) == (self.sql is None):
            raise ValueError("give exactly one of 'file' or 'sql'")
        return self


@dataclass(frozen=True, kw_only=True)
class PreparedSql(PreparedStep[SqlOptions]):
    statement: str
    source: Path | None  # None: the statement is the inline ``sql``
    template: str | None = None  # the file's text when rendering changed it (errors map lines)
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
                template = read_utf8(source)
            except NotUtf8 as exc:
                problem = StepProblem(str(exc), hint=exc.hint, line=exc.line)
                problem.file = source
                raise problem from exc
            except OSError as exc:
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

        return PreparedSql(
            **ctx.fields(self.name, options),
            summary=summary,
            statement=statement,
            source=source,
            cleanup=cleanup,
            output_file=output,
            template=template if statement != template else None,
        )

    def execute(self, step: PreparedSql, ctx: ExecutionContext) -> StepOutcome:
        from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

        conn, dialect = ctx.database()
        timeout = step.options.timeout
        if step.cleanup is not None:
            _clean_up(step, ctx)
        try:
            with (
                database_errors(masker=ctx.masker, timeout=timeout),
                dialect.notices(conn, ctx.log_notice),
                dialect.statement_timeout(conn, timeout),
            ):
                result = dialect.execute(conn, step.statement, fetch=step.output_file is not None)
        except ExecutionError as exc:
            raise _located(exc, step, ctx) from exc
        output, output_file = None, step.output_file
        rows = result.rowcount
        if output_file is not None and result.columns is None:
            # No result set (DDL, an INSERT): not even a header to write, and an empty file
            # would pass for a result. A SELECT of no rows still writes its header (or []).
            ctx.log_line(f"no result set: output_file {step.options.output_file} not written")
            output_file = None
        elif output_file is not None:
            output = TabularResult(result.columns or (), list(result.rows or []))
            # The rows written, whatever the driver counts for a SELECT (SQLite: -1, none).
            rows = len(output.rows)
        return StepOutcome(rows=rows, output=output, output_file=output_file)


def _clean_up(step: PreparedSql, ctx: ExecutionContext) -> None:
    """Drop the step's ``cleanup_target``; a failure says it came from there, not the SQL."""
    from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

    assert step.cleanup is not None
    conn, dialect = ctx.database()
    try:
        with database_errors(masker=ctx.masker, timeout=step.options.timeout):
            dialect.drop_table_if_exists(conn, step.cleanup)
    except ExecutionError as exc:
        target = step.options.cleanup_target
        raise exc.with_context(
            prefix=f"cleanup_target '{target}' (dropping it before the step's SQL)",
            hint=exc.hint or "check the table name and that this connection may drop it",
        ) from exc


def _located(error: ExecutionError, step: PreparedSql, ctx: ExecutionContext) -> ExecutionError:
    """``error`` saying the file and its line, and keeping the rendered SQL of a template.

    The database counts lines of the statement it got; for a template that is the rendered
    text, which the user never saw: the line is mapped back to the template's where it can be,
    and the rendered SQL goes with the error (masked) into the log and the run's record.
    """
    from ordo.db.errors import statement_line  # SQLAlchemy: not imported for `ordo --help`
    from ordo.kinds.templating import template_lines

    if step.source is None:
        return error
    try:
        where = str(step.source.relative_to(ctx.project.root))
    except ValueError:
        where = str(step.source)
    line = statement_line(error.message)
    said = f"in {where}"
    at = line
    details = dict(error.details)
    if step.template is None:
        said += f", line {line}" if line else ""
    else:
        lines = template_lines(step.template, step.statement, line) if line else None
        if lines is not None:
            first, last = lines
            at = first
            said += f", line {first}" if first == last else f", lines {first}-{last}"
            said += f" of the template, line {line} as rendered"
        said += "; the rendered SQL is in the log"
        details["rendered_sql"] = ctx.masker.mask(step.statement)
    located = error.with_context()
    located.message = f"{error.message} ({said})"
    located.args = (located.message,)
    located.file, located.line = step.source, at
    located.details = details
    return located


class PlsqlKind(SqlKind):
    """A PL/SQL (or T-SQL, PL/pgSQL) block, sent whole; its trailing ``;`` belongs to the block."""

    name: ClassVar[str] = "plsql"
    label: ClassVar[str] = "PLSQL"
    # None of its own: a ``.sql`` file without ``type:`` is a sql step, as it always was.
    extensions: ClassVar[tuple[str, ...]] = ()
