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
from ordo.tabular import CSV_SPECIALS, stage_table

if TYPE_CHECKING:
    from ordo._files import StagedFile
    from ordo.db.dialects import Dialect, TableName

__all__ = ["PlsqlKind", "PreparedSql", "SqlKind", "SqlOptions"]

OUTPUT_FORMATS = (".csv", ".json")


class SqlOptions(StepOptions):
    file: str | None = None
    sql: str | None = None
    cleanup_target: str | None = None
    output_file: str | None = None
    null_marker: str | None = None  # CSV only; None: NULL is an empty unquoted field

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
    null_marker: str = ""


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
        _check_null_marker(options, output)

        return PreparedSql(
            **ctx.fields(self.name, options),
            summary=summary,
            statement=statement,
            source=source,
            cleanup=cleanup,
            output_file=output,
            null_marker=options.null_marker or "",
        )

    def execute(self, step: PreparedSql, ctx: ExecutionContext) -> StepOutcome:
        from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

        conn, dialect = ctx.database()
        timeout = step.options.timeout
        staged: StagedFile | None = None
        with database_errors(masker=ctx.masker, timeout=timeout):
            if step.cleanup is not None:
                dialect.drop_table_if_exists(conn, step.cleanup)
            with dialect.statement_timeout(conn, timeout):
                if step.output_file is None:
                    result = dialect.execute(conn, step.statement, fetch=False)
                    return StepOutcome(rows=result.rowcount)
                staged, rows = stage_table(
                    step.output_file,
                    lambda writer: dialect.write_result(conn, step.statement, writer),
                    null_marker=step.null_marker,
                    label=step.options.output_file,
                )
        return StepOutcome(rows=rows, output_file=step.output_file, staged=staged)


def _check_null_marker(options: SqlOptions, output: Path | None) -> None:
    marker = options.null_marker
    if marker is None:
        return
    if output is None or output.suffix.lower() != ".csv":
        raise StepProblem(
            "null_marker applies to a CSV output_file only",
            key="null_marker",
            hint="remove it, or give an output_file ending in .csv",
        )
    if not CSV_SPECIALS.isdisjoint(marker):
        raise StepProblem(
            f"null_marker {marker!r} holds a comma, a quote or a line break",
            key="null_marker",
            hint=r"use a plain word such as NULL or \N",
        )


class PlsqlKind(SqlKind):
    """A PL/SQL (or T-SQL, PL/pgSQL) block, sent whole; its trailing ``;`` belongs to the block."""

    name: ClassVar[str] = "plsql"
    label: ClassVar[str] = "PLSQL"
    # None of its own: a ``.sql`` file without ``type:`` is a sql step, as it always was.
    extensions: ClassVar[tuple[str, ...]] = ()
