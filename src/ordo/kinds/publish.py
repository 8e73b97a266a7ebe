"""``publish`` steps: datasets versioned under a shared root, for the programs that read them.

Each dataset named under ``datasets:`` (a collect step's Parquet, or a sheet of a static
workbook) is held to ``databaseSchemas.json`` and, when its content changed, becomes the newest
version under ``root:`` (``ordo.datasets.publishing``, ``ordo.datasets.versions``). The step is
all or nothing and needs no connection: it writes files, never a table, so it joins no
transaction and the runner's rollback of a unit does not undo it; ``rollback: {type:
restore}`` on it puts back the last good version of every dataset it touches (``restore``).

At plan time the schema file must exist and be valid, every dataset must be in it, and every
static workbook must exist; a dynamic Parquet may not exist yet (the collect step before makes
it). Paths are relative to the project folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ordo._words import plural
from ordo.errors import InvalidInput, PermanentError, StepProblem
from ordo.kinds.base import ExecutionContext, PrepareContext, PreparedStep, StepOutcome
from ordo.kinds.options import StepOptions

if TYPE_CHECKING:
    from ordo.datasets.publishing import DatasetSource
    from ordo.datasets.schemas import SchemaFile
    from ordo.db.dialects import Dialect

__all__ = ["PreparedPublish", "PublishDataset", "PublishKind", "PublishOptions"]

_NEEDS = ("pyarrow", "python_calamine", "xxhash", "jsonschema")


class PublishDataset(BaseModel):
    """One dataset's source: ``{parquet: FILE}`` or ``{excel: FILE, sheet: 0}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    parquet: str | None = None
    excel: str | None = None
    sheet: str | int = 0  # a name, or the position from 0
    header_row: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _one_source(self) -> PublishDataset:
        if (self.parquet is None) == (self.excel is None):
            raise ValueError("give exactly one of 'parquet' (a file) or 'excel' (a workbook)")
        if self.parquet is not None and ("sheet" in self.model_fields_set):
            raise ValueError("'sheet' goes with 'excel', not with 'parquet'")
        return self


class PublishOptions(StepOptions):
    schemas: str  # the path of databaseSchemas.json
    root: str  # the versioned root: newest/, historical_db/
    datasets: dict[str, PublishDataset] = Field(min_length=1)
    keep_versions: int | None = Field(None, ge=0)  # historical versions kept; None: all
    lock_timeout: float = Field(600, gt=0)  # seconds to wait for another publisher


@dataclass(frozen=True, kw_only=True)
class PreparedPublish(PreparedStep[PublishOptions]):
    schema_file: SchemaFile
    root: Path
    sources: dict[str, DatasetSource]


class PublishKind:
    """Versions datasets under a shared root, all or nothing; restores the last good ones."""

    name: ClassVar[str] = "publish"
    label: ClassVar[str] = "PUBLISH"
    extensions: ClassVar[tuple[str, ...]] = ()
    folder: ClassVar[str | None] = None
    options_model: ClassVar[type[PublishOptions]] = PublishOptions
    uses_connection: ClassVar[bool] = False

    def transactional(self, dialect: Dialect | None) -> bool:
        """Never: it writes files, which no database transaction can take back."""
        return False

    def prepare(self, options: PublishOptions, ctx: PrepareContext) -> PreparedPublish:
        from ordo.data.plugins import require_modules
        from ordo.datasets.publishing import EXCEL_EXTENSIONS, DatasetSource
        from ordo.datasets.schemas import load_schemas

        require_modules(_NEEDS, "a publish step", "type")
        base = ctx.project.root
        schemas_path = _path(base, options.schemas)
        try:
            schema_file = load_schemas(schemas_path)
        except InvalidInput as exc:
            problem = StepProblem(exc.message, key="schemas", hint=exc.hint)
            problem.file = schemas_path
            raise problem from None
        unknown = [name for name in options.datasets if name not in schema_file.datasets]
        if unknown:
            raise StepProblem(
                f"{', '.join(map(repr, unknown))} not in {options.schemas} "
                f"(it describes {', '.join(schema_file.datasets)})",
                key="datasets",
                hint="add the dataset's columns to the schema file, or fix the name",
            )
        sources: dict[str, DatasetSource] = {}
        for name, given in options.datasets.items():
            if given.excel is not None:
                path = _path(base, given.excel)
                if path.suffix.lower() not in EXCEL_EXTENSIONS:
                    raise StepProblem(
                        f"dataset '{name}': {given.excel} is not a workbook "
                        f"(one of {', '.join(EXCEL_EXTENSIONS)})",
                        key="datasets",
                    )
                if not path.is_file():
                    raise StepProblem(
                        f"dataset '{name}': {given.excel} not found (looked in {path})",
                        key="datasets",
                    )
                sources[name] = DatasetSource(
                    excel=path, sheet=given.sheet, header_row=given.header_row
                )
            else:
                sources[name] = DatasetSource(parquet=_path(base, given.parquet or ""))
        root = _path(base, options.root)
        return PreparedPublish(
            **ctx.fields(self.name, options),
            summary=f"- {plural(len(sources), 'dataset')} -> {options.root}",
            schema_file=schema_file,
            root=root,
            sources=sources,
        )

    def execute(self, step: PreparedPublish, ctx: ExecutionContext) -> StepOutcome:
        from ordo.datasets.publishing import publish

        options = step.options
        try:
            result = publish(
                step.root,
                step.schema_file,
                step.sources,
                keep_versions=options.keep_versions,
                base=ctx.project.root,
                lock_timeout=options.lock_timeout,
            )
        except OSError as exc:  # the root cannot be written: full disk, no permission
            raise _root_error(step, exc) from exc
        for dataset in result.datasets:
            said = dataset.reason if dataset.status == "failed" else dataset.version
            ctx.log_line(f"{dataset.dataset}: {dataset.status} ({said})")
        details = result.as_details()
        if not result.ok:
            failed = [d for d in result.datasets if d.status == "failed"]
            error = PermanentError(
                f"{plural(len(failed), 'dataset')} of {result.total} failed, so nothing was "
                "published: " + "; ".join(d.reason or d.dataset for d in failed),
                hint="fix each failing source (or its columns in the schema file) and run "
                "again; the published versions are as they were",
            )
            error.details = details
            raise error
        changed = [d.rows or 0 for d in result.datasets if d.status == "changed"]
        rows = sum(changed) if changed else None  # the rows published; none when none changed
        return StepOutcome(rows=rows, details=details, warnings=result.warnings)

    def restore(self, step: PreparedPublish, ctx: ExecutionContext) -> StepOutcome:
        """Put back the last good version of each dataset the step publishes.

        After a failed publish nothing listed changed, so the check mostly confirms it: every
        listed file must exist and hold what its hash says. A newest file that is missing or
        damaged is replaced by the latest good historical version; with none, this fails."""
        from ordo.datasets.restoring import restore_datasets

        try:
            restored = restore_datasets(step.root, list(step.sources), step.options.lock_timeout)
        except OSError as exc:
            raise _root_error(step, exc) from exc
        for line in restored.lines():
            ctx.log_line(line)
        return StepOutcome(details=restored.as_details())


def _root_error(step: PreparedPublish, exc: OSError) -> PermanentError:
    where = exc.filename or step.root
    return PermanentError(
        f"cannot write under {step.options.root}: {where}: {exc.strerror or exc}",
        hint="check that the folder can be written (free space, permissions), then run again",
    )


def _path(base: Path, text: str) -> Path:
    path = Path(text)
    return path if path.is_absolute() else base / path
