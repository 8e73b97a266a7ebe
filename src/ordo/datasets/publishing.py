"""Publishing: each dataset loaded, held to its schema, and versioned if it changed, all at once.

Seed 002's DataLoaderAgent as a function a Python user can call (the ``publish`` step kind is a
thin layer over it). For each dataset: load it (a Parquet file a collect step wrote, or one
sheet of a workbook), check it against ``databaseSchemas.json`` (``schemas.conform``), hash it
(``hashing.content_hash``) and compare the hash with the newest version's. The slow part, the
reading, happens before the root's lock is taken; the comparison and the switch happen under
it, so a concurrent publisher's version is never overwritten unseen.

All or nothing: when any dataset fails, no file is written and nothing listed changes; when all
pass, every changed dataset becomes newest in one switch (``versions``). The result carries
the loader's counts: ``total``, ``successful``, ``failed``, ``warnings``, ``changed_files`` (the
datasets whose content changed) and ``files_saved`` (the new files written into ``newest/``:
the changed ones when the switch was made, none when it was not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ordo.datasets.schemas import SchemaFile, conform, load_schemas
from ordo.errors import OrdoError, PermanentError, StepProblem

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "EXCEL_EXTENSIONS",
    "DatasetResult",
    "DatasetSource",
    "PublishResult",
    "publish",
]

EXCEL_EXTENSIONS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset comes from: a Parquet file (a collect step's output), or a sheet of a
    workbook (a static dataset); ``sheet`` is a name or a position from 0."""

    parquet: Path | None = None
    excel: Path | None = None
    sheet: str | int = 0
    header_row: int = 1

    @property
    def path(self) -> Path:
        path = self.parquet if self.parquet is not None else self.excel
        if path is None:
            raise ValueError("a dataset source needs parquet or excel")
        return path


@dataclass(frozen=True)
class DatasetResult:
    dataset: str
    status: Literal["changed", "unchanged", "failed"]
    rows: int | None = None
    hash: str | None = None
    version: str | None = None  # the newest version after the publish
    previous: str | None = None  # the newest version before it
    reason: str | None = None  # why it failed, or why it was not published

    def as_dict(self) -> dict[str, Any]:
        found = {
            "dataset": self.dataset,
            "status": self.status,
            "rows": self.rows,
            "version": self.version,
            "previous": self.previous,
            "hash": self.hash,
        }
        if self.reason is not None:
            found["reason"] = self.reason
        return found


@dataclass(frozen=True)
class PublishResult:
    root: Path
    datasets: tuple[DatasetResult, ...]
    warnings: tuple[str, ...] = ()
    removed: tuple[Path, ...] = ()  # historical versions pruned by keep_versions

    @property
    def ok(self) -> bool:
        return not any(d.status == "failed" for d in self.datasets)

    @property
    def total(self) -> int:
        return len(self.datasets)

    @property
    def successful(self) -> int:
        return sum(d.status != "failed" for d in self.datasets)

    @property
    def failed(self) -> int:
        return sum(d.status == "failed" for d in self.datasets)

    @property
    def changed_files(self) -> int:
        return sum(d.status == "changed" for d in self.datasets)

    @property
    def files_saved(self) -> int:
        return self.changed_files if self.ok else 0

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "successful": self.successful,
            "failed": self.failed,
            "warnings": len(self.warnings),
            "changed_files": self.changed_files,
            "files_saved": self.files_saved,
        }

    def as_details(self) -> dict[str, Any]:
        """The step's details: the counts, then each dataset's result."""
        return {
            **self.counts(),
            "datasets": [d.as_dict() for d in self.datasets],
            "pruned": len(self.removed),
            "root": str(self.root),
        }


@dataclass
class _Loaded:
    table: pa.Table
    hash: str


def publish(
    root: Path | str,
    schemas: Path | str | SchemaFile,
    sources: Mapping[str, DatasetSource],
    *,
    keep_versions: int | None = None,
    base: Path | None = None,
    lock_timeout: float = 600,
    clock: Callable[[], datetime] | None = None,
) -> PublishResult:
    """Publish ``sources`` into the versioned ``root``, all or nothing (see the module).

    ``schemas`` is the path of ``databaseSchemas.json`` (or one already loaded); ``base`` is
    the folder paths are shown relative to in messages (the project). Raises only for what
    stops every dataset (the schema file, the lock, a root that cannot be written); a dataset
    that fails is in the result, whose ``ok`` is then False and which changed nothing."""
    from ordo.datasets.hashing import content_hash
    from ordo.datasets.versions import open_root

    schema_file = schemas if isinstance(schemas, SchemaFile) else load_schemas(Path(schemas))
    loaded: dict[str, _Loaded] = {}
    failed: dict[str, str] = {}
    warnings: list[str] = []
    for dataset, source in sources.items():
        try:
            schema = schema_file.datasets.get(dataset)
            if schema is None:
                known = ", ".join(schema_file.datasets)
                raise PermanentError(
                    f"dataset '{dataset}' is not in {schema_file.path} (it has {known})"
                )
            table = conform(_load(source, base), schema)
        except OrdoError as exc:
            failed[dataset] = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
            continue
        if table.num_rows == 0:
            warnings.append(f"dataset '{dataset}' has no rows ({_shown(source.path, base)})")
        loaded[dataset] = _Loaded(table, content_hash(table))
    results: list[DatasetResult] = []
    removed: list[Path] = []
    with open_root(Path(root), create=True, timeout=lock_timeout) as opened:
        before = {d: opened.newest(d) for d in sources}
        changed = {
            d: (item.table, item.hash)
            for d, item in loaded.items()
            if (old := before[d]) is None or old.hash != item.hash
        }
        after = {}
        if not failed and changed:
            after = opened.publish(changed, clock=clock)
        if not failed and keep_versions is not None:  # a lowered keep_versions applies at once
            removed = opened.prune(keep_versions, [d for d in sources if d in opened.annotations])
        for dataset in sources:
            old = before[dataset]
            previous = old.name if old is not None else None
            if dataset in failed:
                results.append(
                    DatasetResult(dataset, "failed", previous=previous, reason=failed[dataset])
                )
                continue
            item = loaded[dataset]
            rows = item.table.num_rows
            if dataset not in changed:
                results.append(
                    DatasetResult(dataset, "unchanged", rows, item.hash, previous, previous)
                )
                continue
            new = after.get(dataset)
            reason = None if new is not None else "not published: another dataset failed"
            results.append(
                DatasetResult(
                    dataset,
                    "changed",
                    rows,
                    item.hash,
                    new.name if new is not None else previous,
                    previous,
                    reason,
                )
            )
    return PublishResult(Path(root), tuple(results), tuple(warnings), tuple(removed))


def _load(source: DatasetSource, base: Path | None) -> pa.Table:
    """The dataset's table as its source holds it; ``PermanentError`` naming the file."""
    path = source.path
    shown = _shown(path, base)
    if not path.is_file():
        made = " (the collect step before this one writes it)" if source.parquet else ""
        raise PermanentError(f"{shown} does not exist{made}")
    if source.parquet is not None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PermanentError(f"{shown} cannot be read as Parquet ({first})") from None
        return table.replace_schema_metadata(None)
    return _read_sheet(source, path, base)


def _read_sheet(source: DatasetSource, path: Path, base: Path | None) -> pa.Table:
    """One sheet, read by the excel extractor (python-calamine), so its rules hold here too:
    a column of whole numbers is integers, a column mixing text and numbers is text."""
    import pyarrow as pa

    from ordo.config import Settings
    from ordo.data.plugins import PlanContext
    from ordo.extractors.excel import ExcelConfig, ExcelExtractor

    if path.suffix.lower() not in EXCEL_EXTENSIONS:
        raise PermanentError(
            f"{_shown(path, base)} is not a workbook (one of {', '.join(EXCEL_EXTENSIONS)})"
        )
    folder = base if base is not None else path.parent
    plan = PlanContext(root=folder, manifest_dir=folder, settings=Settings({}, folder))
    config = ExcelConfig(path=str(path), sheet=source.sheet, header_row=source.header_row)
    try:
        extractor = ExcelExtractor(config, plan)
        batches = list(extractor.each_file())
    except StepProblem as exc:
        raise PermanentError(exc.message) from None
    return pa.Table.from_batches(batches)


def _shown(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(path.relative_to(base))
        except ValueError:
            pass
    return str(path)
