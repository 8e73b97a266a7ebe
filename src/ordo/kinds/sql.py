"""``sql`` and ``plsql`` steps: one statement (or one PL/SQL block) per step.

A sql step with ``split_statements: true`` may hold several statements, sent one by one in
its transaction; without it a second statement is an error at plan time (``_statements``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import model_validator

from ordo._files import NotUtf8, read_utf8
from ordo._words import plural
from ordo.db.dialects import parse_table_name
from ordo.errors import ExecutionError, StepProblem
from ordo.kinds._statements import step_statements
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions
from ordo.tabular import CSV_SPECIALS, stage_table

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo._files import StagedFile
    from ordo.db.dialects import Dialect, TableName
    from ordo.db.statements import Statement
    from ordo.masking import Masker

__all__ = ["PlsqlKind", "PreparedSql", "SqlKind", "SqlOptions"]

OUTPUT_FORMATS = (".csv", ".json")


class SqlOptions(StepOptions):
    file: str | None = None
    sql: str | None = None
    cleanup_target: str | None = None
    output_file: str | None = None
    split_statements: bool = False  # several statements, run one by one in the transaction
    null_marker: str | None = None  # CSV only; None: NULL is an empty unquoted field
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
    template: str | None = None  # the file's text when rendering changed it (errors map lines)
    cleanup: TableName | None  # dropped (if it exists) before the statement runs
    output_file: Path | None
    statements: tuple[Statement, ...] = ()  # () : ``statement`` is sent whole
    null_marker: str = ""


class SqlKind:
    """Runs the rendered file (or inline ``sql``) as one statement in the unit's transaction."""

    name: ClassVar[str] = "sql"
    label: ClassVar[str] = "SQL"
    extensions: ClassVar[tuple[str, ...]] = (".sql",)
    folder: ClassVar[str | None] = "sql"
    options_model: ClassVar[type[SqlOptions]] = SqlOptions
    uses_connection: ClassVar[bool] = True
    one_block: ClassVar[bool] = False  # plsql: the text is one block, never split

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
        if self.one_block and options.split_statements:
            raise StepProblem(
                f"a {self.name} step is one block, sent whole: split_statements is for sql steps",
                key="split_statements",
            )
        statements: tuple[Statement, ...] = ()
        if not self.one_block:
            statements = step_statements(
                statement,
                template,
                source=source,
                split=options.split_statements,
                dialect=ctx.dialect,
                mask=lambda text: ctx.settings.masker().mask(text),
            )

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

        output = _output_path(options, ctx)
        if output is not None:
            summary = (summary + f" - Output: {options.output_file}").strip()
        if statements:
            summary = (summary + f" - {plural(len(statements), 'statement')}").strip()

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
            writes=(options.cleanup_target,) if options.cleanup_target else (),
            statement=statement,
            source=source,
            cleanup=cleanup,
            output_file=output,
            template=template if statement != template else None,
            statements=statements,
            null_marker=options.null_marker or "",
        )

    def execute(self, step: PreparedSql, ctx: ExecutionContext) -> StepOutcome:
        from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

        conn, dialect = ctx.database()
        timeout = step.options.timeout
        if step.cleanup is not None:
            _clean_up(step, ctx)
        staged: list[StagedFile] = []
        failing: list[Statement] = []  # split_statements: the statement that failed

        def run(sql: str, last: bool) -> int | None:
            if last and step.output_file is not None:
                return _write_output(step, sql, conn, dialect, staged)
            return dialect.execute(conn, sql, fetch=False).rowcount

        try:
            with (
                database_errors(masker=ctx.masker, timeout=timeout),
                dialect.notices(conn, ctx.log_notice),
                dialect.statement_timeout(conn, timeout),
            ):
                if step.statements:
                    rows = _each(step, ctx.masker, run, failing)
                else:
                    rows = run(step.statement, True)
        except BaseException as exc:
            for file in staged:  # written, but the step did not end well
                file.discard()
            if isinstance(exc, ExecutionError):
                start = failing[0].line if failing and failing[0].line else 1
                raise _located(exc, step, ctx, start=start) from exc
            raise
        if step.output_file is None:
            return StepOutcome(rows=rows)
        if not staged:
            # No result set (DDL, an INSERT): not even a header to write, and an empty file
            # would pass for a result. A SELECT of no rows still writes its header (or []).
            ctx.log_line(f"no result set: output_file {step.options.output_file} not written")
            return StepOutcome(rows=rows)
        return StepOutcome(rows=rows, output_file=step.output_file, staged=staged[0])


def _write_output(
    step: PreparedSql, sql: str, conn: Connection, dialect: Dialect, staged: list[StagedFile]
) -> int | None:
    """Stream the rows of ``sql`` to a temp file beside ``output_file`` (put in ``staged``,
    in place once the unit commits); the rows written, whatever the driver counts for a
    SELECT (SQLite: -1). A statement with no result set writes nothing: the driver's count."""
    assert step.output_file is not None
    counted: list[int | None] = []
    written = stage_table(
        step.output_file,
        lambda writer: counted.append(dialect.write_result(conn, sql, writer)),
        null_marker=step.null_marker,
        label=step.options.output_file,
    )
    if written is None:
        return counted[0] if counted else None
    staged.append(written[0])
    return written[1]


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


def _located(
    error: ExecutionError, step: PreparedSql, ctx: ExecutionContext, *, start: int = 1
) -> ExecutionError:
    """``error`` saying the file and its line, and keeping the rendered SQL of a template.

    The database counts lines of the statement it got, which began on line ``start`` of the
    (rendered) text when the step was split; for a template that text is the rendered one,
    which the user never saw: the line is mapped back to the template's where it can be, and
    the rendered SQL goes with the error (masked) into the log and the run's record.
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
    if line:
        line += start - 1
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


def _each(
    step: PreparedSql,
    masker: Masker,
    run: Callable[[str, bool], int | None],
    failing: list[Statement],
) -> int | None:
    """``split_statements``: each statement in order, by ``run(sql, last)``; the last one's
    rows are the step's (and its result the output file's).

    An error names the statement that failed (``statement 2 of 3 (line 4)``), which goes in
    ``failing`` so that the database's line can be told as a line of the file."""
    from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

    count = len(step.statements)
    rows: int | None = None
    for number, part in enumerate(step.statements, 1):
        try:
            with database_errors(masker=masker, timeout=step.options.timeout):
                rows = run(part.sql, number == count)
        except ExecutionError as exc:
            failing.append(part)
            where = f" (line {part.line})" if part.line else ""
            raise exc.with_context(prefix=f"statement {number} of {count}{where}") from exc
    return rows


def _output_path(options: SqlOptions, ctx: PrepareContext) -> Path | None:
    """Where ``output_file`` goes: inside the project, CSV or JSON; ``null_marker`` fits it."""
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
    _check_null_marker(options, output)
    return output


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


def _implicit_commits(
    statement: str, source: Path | None, options: SqlOptions, dialect: Dialect | None
) -> tuple[str, ...]:
    """What in the step commits on its own on ``dialect``: its cleanup's ``DROP TABLE`` and
    each DDL statement of the rendered SQL (``split_statements`` finds them), as messages
    name them. A PL/SQL block is one statement: DDL it runs dynamically is not seen."""
    if dialect is None or not dialect.ddl_commits_implicitly:
        return ()
    from ordo.db.statements import split_statements  # the scanner: only for SQL steps

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
    one_block: ClassVar[bool] = True
