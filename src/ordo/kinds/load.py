"""``load`` steps: data from a source (an extractor) into a target (a loader), as Arrow batches.

``source: {type: csv, path: ...}`` and ``target: {type: table, table: ...}`` are an extractor
and a loader config (what a service job names ``extractor_type``/``extractor_config`` and
``loader_type``/``loader_config``), each validated by its own model when the plan is made, so
a wrong key or a missing file stops the run before anything moves. The batches stream from
one to the other: memory holds a few batches, whatever the size of the source.

A table target writes through the step's connection, in the unit's transaction: on
PostgreSQL, SQLite and DuckDB the load commits or rolls back with the unit and may share a
transaction group; on MySQL/MariaDB the table's DDL commits on its own (``implicit_commits``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ordo._words import plural
from ordo.data.plugins import DataContext, PlanContext, require_modules
from ordo.errors import ExecutionError, PermanentError
from ordo.extractors import Extractor, build_extractor
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions
from ordo.loaders import Loader, build_loader

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.db.dialects import Dialect

__all__ = ["LoadKind", "LoadOptions", "PreparedLoad"]


class LoadOptions(StepOptions):
    source: dict[str, Any]  # {type: csv, ...}: validated by the extractor's own model
    target: dict[str, Any]  # {type: table, ...}: validated by the loader's own model


@dataclass(frozen=True, kw_only=True)
class PreparedLoad(PreparedStep[LoadOptions]):
    extractor: Extractor
    loader: Loader


class LoadKind:
    """Streams the source's batches into the target, in the unit's transaction."""

    name: ClassVar[str] = "load"
    label: ClassVar[str] = "LOAD"
    extensions: ClassVar[tuple[str, ...]] = ()
    folder: ClassVar[str | None] = None
    options_model: ClassVar[type[LoadOptions]] = LoadOptions
    uses_connection: ClassVar[bool] = True

    def transactional(self, dialect: Dialect | None) -> bool:
        """Always, as a sql step: DDL that commits on its own is told by ``implicit_commits``."""
        return True

    def prepare(self, options: LoadOptions, ctx: PrepareContext) -> PreparedLoad:
        require_modules(("pyarrow",), "a load step", "type")

        def plan(key: str) -> PlanContext:
            return PlanContext(
                root=ctx.project.root,
                manifest_dir=ctx.manifest_dir,
                settings=ctx.settings,
                key=key,
                connection=ctx.connection,
                dialect=ctx.dialect,
            )

        extractor = build_extractor(options.source, plan("source"))
        loader = build_loader(options.target, plan("target"))
        return PreparedLoad(
            **ctx.fields(self.name, options),
            summary=f"- {extractor.describe()} -> {loader.describe()}",
            implicit_commits=loader.implicit_commits(ctx.dialect),
            writes=_table_written(options.target),
            extractor=extractor,
            loader=loader,
        )

    def execute(self, step: PreparedLoad, ctx: ExecutionContext) -> StepOutcome:
        from ordo.db.errors import database_errors  # SQLAlchemy: not imported for `ordo --help`

        data = DataContext(
            settings=ctx.settings,
            masker=ctx.masker,
            log_line=ctx.log_line,
            connection=ctx.connection,
            dialect=ctx.dialect,
        )
        conn, dialect = ctx.database()
        timeout = step.options.timeout
        read = _Counted(step.extractor.batches(data))
        started = time.monotonic()
        try:
            with (
                database_errors(masker=ctx.masker, timeout=timeout),
                dialect.statement_timeout(conn, timeout),
            ):
                rows = step.loader.load(iter(read), data)
        except BaseException as exc:
            for file in data.staged:
                file.discard()
            if isinstance(exc, ExecutionError):
                raise
            problem = _data_problem(exc, ctx)
            if problem is None:
                raise
            raise problem from exc
        seconds = round(time.monotonic() - started, 3)
        source, target = step.extractor.describe(), step.loader.describe()
        ctx.log_line(
            f"{plural(rows, 'row')} from {source} to {target} in {seconds:.2f} s "
            f"({plural(read.batches, 'batch', 'batches')})"
        )
        extract = round(min(read.seconds, seconds), 3)
        details = {
            "source": source,
            "target": target,
            "rows": rows,
            "seconds": seconds,
            # seconds spent reading the source, and writing the target, of ``seconds``
            "phases": [
                {"phase": "extract", "rows": read.rows, "seconds": extract},
                {"phase": "load", "rows": rows, "seconds": round(seconds - extract, 3)},
            ],
        }
        if not data.staged:
            return StepOutcome(rows=rows, details=details)
        staged = data.staged[0]
        return StepOutcome(rows=rows, details=details, output_file=staged.path, staged=staged)


class _Counted:
    """The source's batches, counted as they pass, and the time spent waiting for them: the
    extract's part of the step (the rest is the load's; the two interleave, batch by batch)."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self.batches = 0
        self.rows = 0
        self.seconds = 0.0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            asked = time.monotonic()
            try:
                batch = next(self._batches)
            except StopIteration:
                self.seconds += time.monotonic() - asked
                return
            self.seconds += time.monotonic() - asked
            self.batches += 1
            self.rows += batch.num_rows
            yield batch


def _data_problem(exc: BaseException, ctx: ExecutionContext) -> PermanentError | None:
    """A data error that is no bug (a value Arrow cannot read, a file that went away) as a
    permanent failure in one line; anything else is left to propagate as a bug."""
    import pyarrow as pa

    if isinstance(exc, pa.ArrowException | OSError | UnicodeDecodeError):
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return PermanentError(ctx.masker.mask(f"load failed: {text}"))
    return None


def _table_written(target: dict[str, Any]) -> tuple[str, ...]:
    """A table target's ``[schema.]table``, for ``ordo status`` to count its rows."""
    table, schema = target.get("table"), target.get("schema")
    if target.get("type") != "table" or not isinstance(table, str):
        return ()
    return (f"{schema}.{table}" if isinstance(schema, str) else table,)
