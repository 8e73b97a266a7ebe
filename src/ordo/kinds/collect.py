"""``collect`` steps: Excel reports gathered into one Parquet file, rewritten only on change.

The files are found when the plan is made (a glob that matches nothing stops the run there,
naming it); ``execute`` reads them all (``ordo.datasets.collecting``), and when the content
hash differs from the existing file's it stages the new file, which the runner renames into
place once the step has succeeded: a failure at any point leaves the old file as it was.
The old file is kept as the step's previous version first, so ``rollback: {type: restore}``
can put it back if it is ever found damaged. No database is involved: the step needs no
connection and shares no transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ordo._words import plural
from ordo.data.plugins import require_modules
from ordo.datasets.collecting import LINEAGE_COLUMN
from ordo.datasets.workbooks import EXTENSIONS
from ordo.errors import PermanentError, StepProblem
from ordo.extractors._arrow import ColumnTypes
from ordo.kinds.base import (
    ExecutionContext,
    PrepareContext,
    PreparedStep,
    Restorable,
    StepOutcome,
)
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.datasets.collecting import Gathered
    from ordo.datasets.normalising import Schema
    from ordo.db.dialects import Dialect
    from ordo.project import Project

__all__ = ["CollectKind", "CollectOptions", "PreparedCollect"]


class CollectOptions(StepOptions):
    sources: tuple[str, ...] = Field(min_length=1)  # globs, relative to the project root
    sheet: str | int = 0  # a name, or the position from 0
    header_row: int = Field(1, ge=1)
    output: str
    columns: ColumnTypes = Field(min_length=1)
    rename: dict[str, str] = Field(default_factory=dict)  # alias: column
    formats: tuple[str, ...] = ()  # text dates, strptime style: "%d/%m/%Y"
    lineage: bool = True  # a source_file column
    dedupe: tuple[str, ...] | bool = False
    order_by: tuple[str, ...] = ()
    on_bad_file: Literal["fail", "skip"] = "fail"

    @field_validator("sources", "order_by", "dedupe", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: object) -> object:
        """``sources: reports/*.xlsx`` means ``[reports/*.xlsx]``, as a user would expect."""
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known_columns(self) -> CollectOptions:
        known = {name.casefold() for name in self.columns}
        for alias, column in self.rename.items():
            if column not in self.columns:
                raise ValueError(
                    f"rename: '{alias}' stands for '{column}', which is not in columns: "
                    f"({', '.join(self.columns)})"
                )
        sortable = set(self.columns) | ({LINEAGE_COLUMN} if self.lineage else set())
        keys = self.dedupe if not isinstance(self.dedupe, bool) else ()
        for key, names in (("dedupe", keys), ("order_by", self.order_by)):
            allowed = sortable if key == "order_by" else set(self.columns)
            unknown = [n for n in names if n not in allowed]
            if unknown:
                raise ValueError(
                    f"{key}: {', '.join(map(repr, unknown))} not in columns: "
                    f"({', '.join(self.columns)})"
                )
        if len(known) != len(self.columns):
            raise ValueError("columns: two names differ only in case; headers are matched so")
        return self


@dataclass(frozen=True, kw_only=True)
class PreparedCollect(PreparedStep[CollectOptions]):
    files: tuple[Path, ...]  # sorted: the order "keep the last" goes by
    output: Path
    root: Path


class CollectKind:
    """Reads the reports and writes the Parquet file when its content changed."""

    name: ClassVar[str] = "collect"
    label: ClassVar[str] = "COLLECT"
    extensions: ClassVar[tuple[str, ...]] = ()
    folder: ClassVar[str | None] = None
    options_model: ClassVar[type[CollectOptions]] = CollectOptions
    uses_connection: ClassVar[bool] = False

    def transactional(self, dialect: Dialect | None) -> bool:
        """Never: it touches no database; its file is put in place after it succeeds."""
        return False

    read_for_plan = False  # execute takes the reading: a dry run reads nothing ahead

    def read_ahead(self, options: CollectOptions, project: Project, manifest_dir: Path) -> None:
        """Start reading and normalising the workbooks (``ordo._read_ahead``)."""
        from ordo import _read_ahead

        require_modules(("pyarrow", "fastexcel", "xxhash"), "a collect step", "type")
        root = project.root
        files, output = _sources(options, root), _output(options, root)
        _read_ahead.start(*_gathering(options, files, output, root))

    def prepare(self, options: CollectOptions, ctx: PrepareContext) -> PreparedCollect:
        require_modules(("pyarrow", "fastexcel", "xxhash"), "a collect step", "type")
        root = ctx.project.root
        files = _sources(options, root)
        output = _output(options, root)
        shown = _shown(root, output)
        return PreparedCollect(
            **ctx.fields(self.name, options),
            summary=f"- {plural(len(files), 'file')} -> {shown}",
            files=files,
            output=output,
            root=root,
        )

    def execute(self, step: PreparedCollect, ctx: ExecutionContext) -> StepOutcome:
        from ordo import _read_ahead
        from ordo.datasets.collecting import keep_previous
        from ordo.datasets.parquet_files import stage_parquet

        options = step.options
        gathered = _read_ahead.take(*_gathering(options, step.files, step.output, step.root))
        result = gathered.result
        for file in result.files:
            ctx.log_line(f"{file}: {plural(result.rows_per_file[file], 'row')}")
        for file, headers in result.ignored.items():
            ctx.log_line(f"{file}: left out (not in columns:): {', '.join(headers)}")
        warnings = tuple(f"{s.file} skipped: {s.reason}" for s in result.skipped)
        details = result.details(step.root)
        shown = _shown(step.root, step.output)
        if not result.changed:
            ctx.log_line(f"{shown} unchanged ({plural(result.rows, 'row')}): not rewritten")
            return StepOutcome(rows=result.rows, details=details, warnings=warnings)
        try:
            keep_previous(step.output)
            staged = stage_parquet(step.output, gathered.table, result.content_hash)
        except OSError as exc:
            raise PermanentError(
                f"cannot write {shown} ({exc.strerror or exc})",
                hint="check that its folder exists and is writable",
            ) from exc
        dropped = f", {plural(result.duplicates, 'duplicate')} removed" if result.duplicates else ""
        ctx.log_line(f"{shown}: {plural(result.rows, 'row')}{dropped}")
        return StepOutcome(
            rows=result.rows,
            details=details,
            output_file=step.output,
            staged=staged,
            warnings=warnings,
        )

    def restore(self, step: PreparedCollect, ctx: ExecutionContext) -> StepOutcome:
        """Put back the last good version of the output (``rollback: {type: restore}``)."""
        from ordo.datasets.collecting import restore_output

        done = restore_output(step.output)
        ctx.log_line(done)
        return StepOutcome(details={"output": _shown(step.root, step.output), "restore": done})


def _sources(options: CollectOptions, root: Path) -> tuple[Path, ...]:
    """The workbooks the step's ``sources`` match, sorted; ``StepProblem`` when a pattern
    matches none, or a file that is not a workbook."""
    files: set[Path] = set()
    for pattern in options.sources:
        found = _matches(root, pattern)
        if not found:
            raise StepProblem(
                f"no file matches '{pattern}' (looked in {_base(root, pattern)})",
                key="sources",
                hint="sources are relative to the project folder (the one holding config/)",
            )
        for path in found:
            if path.suffix.lower() not in EXTENSIONS:
                raise StepProblem(
                    f"'{pattern}' matches {path.name}, which is not a workbook (one of "
                    f"{', '.join(EXTENSIONS)})",
                    key="sources",
                    hint="narrow the pattern, e.g. reports/*.xlsx",
                )
        files.update(found)
    return tuple(sorted(files))


def _output(options: CollectOptions, root: Path) -> Path:
    output = _resolve(root, options.output)
    if output.suffix.lower() != ".parquet":
        raise StepProblem(f"output '{options.output}' should be a .parquet file", key="output")
    return output


def _gathering(
    options: CollectOptions, files: tuple[Path, ...], output: Path, root: Path
) -> tuple[Hashable, list[Path], Callable[[], Gathered]]:
    """What reading the workbooks takes: its key (everything the reading depends on), the
    files it reads (the output too: its stored hash decides ``unchanged``), and the reading
    itself."""
    from ordo.datasets.collecting import gather

    key = ("collect", files, output, root, options.model_dump_json())
    read = partial(
        gather,
        files,
        output,
        _schema(options),
        sheet=options.sheet,
        header_row=options.header_row,
        lineage=options.lineage,
        dedupe=options.dedupe,
        order_by=options.order_by,
        on_bad_file=options.on_bad_file,
        root=root,
    )
    return key, [*files, output], read


def _schema(options: CollectOptions) -> Schema:
    from ordo.datasets.normalising import Schema

    return Schema(dict(options.columns), dict(options.rename), options.formats)


def _resolve(root: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else root / path


def _matches(root: Path, pattern: str) -> list[Path]:
    """The files ``pattern`` matches (relative to ``root`` unless absolute), leaving out the
    ``~$name.xlsx`` lock files Excel keeps beside an open workbook."""
    path = Path(pattern).expanduser()
    if path.is_absolute():
        base, relative = Path(path.anchor), str(path.relative_to(path.anchor))
    else:
        base, relative = root, pattern
    if not any(c in relative for c in "*?["):
        found = [base / relative] if (base / relative).is_file() else []
    else:
        found = [p for p in base.glob(relative) if p.is_file()]
    return sorted(p.resolve() for p in found if not p.name.startswith("~$"))


def _base(root: Path, pattern: str) -> Path:
    path = Path(pattern).expanduser()
    return path.parent if path.is_absolute() else (root / pattern).parent


def _shown(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


if TYPE_CHECKING:  # the rollback machinery calls ``restore`` through this protocol
    _RESTORABLE: Restorable[PreparedCollect] = CollectKind()
