"""Many workbooks into one Parquet file, rewritten only when what they hold has changed.

``collect`` is what a Python user calls and what the ``collect`` step kind runs (the kind
stages the file so the runner puts it in place only when the step succeeds; ``gather`` and
``keep_previous`` are its halves). Files are read in sorted path order, so "the last" of
duplicate rows is always the same one: the row of the file whose path sorts last, and the
lower row within a file. The content hash (``hashing``) of the result is compared with the
one in the existing file's footer: equal means the file is left as it is, its time and inode
too. Before a file is replaced, the last good version is kept beside it, in
``.ordo-previous/``, so ``restore_output`` can put it back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ordo.datasets.hashing import content_hash
from ordo.datasets.normalising import Normalised, Schema, normalise
from ordo.datasets.parquet_files import read_hash, write_parquet
from ordo.datasets.workbooks import BadWorkbook, read_sheet
from ordo.errors import PermanentError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "LINEAGE_COLUMN",
    "PREVIOUS_DIR",
    "CollectResult",
    "Gathered",
    "SkippedFile",
    "collect",
    "gather",
    "keep_previous",
    "previous_path",
    "restore_output",
    "verify",
]

LINEAGE_COLUMN = "source_file"
PREVIOUS_DIR = ".ordo-previous"
ORDER_KEY = b"ordo.order_by"  # the order_by the footer's hash was taken with
_MAX_READERS = 4  # workbooks read at once: each holds its sheet in memory while it is read


@dataclass(frozen=True)
class SkippedFile:
    file: str
    reason: str


@dataclass(frozen=True)
class CollectResult:
    """What a collect did, in the words of its details."""

    output: Path
    files: tuple[str, ...]  # read, in order
    rows_per_file: Mapping[str, int]
    rows: int  # written (or already there)
    duplicates: int
    content_hash: str
    changed: bool
    skipped: tuple[SkippedFile, ...] = ()
    ignored: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # file: headers
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # file: columns

    def details(self, root: Path | None = None) -> dict[str, Any]:
        """Plain JSON values for ``StepOutcome.details``."""
        shown = str(self.output)
        if root is not None and self.output.is_relative_to(root):
            shown = self.output.relative_to(root).as_posix()
        out: dict[str, Any] = {  # what one console line shows first
            "status": "changed" if self.changed else "unchanged",
            "rows_out": self.rows,
            "duplicates": self.duplicates,
            "files": len(self.files),
            "rows": dict(self.rows_per_file),
        }
        if self.skipped:
            out["skipped"] = {s.file: s.reason for s in self.skipped}
        if self.ignored:
            out["ignored_columns"] = {f: list(c) for f, c in self.ignored.items()}
        if self.missing:
            out["missing_columns"] = {f: list(c) for f, c in self.missing.items()}
        out["output"] = shown
        out["hash"] = self.content_hash
        return out


@dataclass(frozen=True)
class Gathered:
    table: pa.Table
    result: CollectResult


def gather(
    files: Sequence[Path],
    output: Path,
    schema: Schema,
    *,
    sheet: str | int = 0,
    header_row: int = 1,
    lineage: bool = True,
    dedupe: Sequence[str] | bool = False,
    order_by: Sequence[str] = (),
    on_bad_file: Literal["fail", "skip"] = "fail",
    root: Path | None = None,
) -> Gathered:
    """Read, normalise, dedupe and hash ``files``; nothing is written. ``BadWorkbook`` for
    the first bad file, unless ``on_bad_file`` is ``skip``; ``PermanentError`` when every
    file was skipped (an empty table would replace good data)."""
    import pyarrow as pa

    tables: list[pa.Table] = []
    names: list[str] = []
    rows: dict[str, int] = {}
    skipped: list[SkippedFile] = []
    ignored: dict[str, tuple[str, ...]] = {}
    missing: dict[str, tuple[str, ...]] = {}
    ordered = sorted(files)
    shown_files = [_shown(path, root) for path in ordered]

    def read(path: Path, shown: str) -> Normalised | BadWorkbook:
        try:
            return _read_file(path, shown, schema, sheet, header_row)
        except BadWorkbook as exc:
            return exc

    # calamine and Arrow let go of the GIL: workbooks are read side by side, and their
    # results taken in path order, so the first bad file named is always the same one
    workers = min(len(ordered), os.cpu_count() or 1, _MAX_READERS)
    if workers > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="ordo-collect") as pool:
            results = list(pool.map(read, ordered, shown_files))
    else:
        results = [read(path, shown) for path, shown in zip(ordered, shown_files, strict=True)]
    for shown, normalised in zip(shown_files, results, strict=True):
        if isinstance(normalised, BadWorkbook):
            if on_bad_file == "fail":
                raise normalised
            skipped.append(SkippedFile(shown, normalised.in_file))
            continue
        table = normalised.table
        if lineage:
            table = table.append_column(
                pa.field(LINEAGE_COLUMN, pa.string()), pa.repeat(shown, table.num_rows)
            )
        tables.append(table)
        names.append(shown)
        rows[shown] = table.num_rows
        if normalised.ignored:
            ignored[shown] = normalised.ignored
        if normalised.missing:
            missing[shown] = normalised.missing
    if files and not tables:
        raise PermanentError(
            f"every file was bad, so {_shown(output, root)} is left as it was: "
            + "; ".join(f"{s.file}: {s.reason}" for s in skipped),
            hint="correct the files, or check sheet:, header_row: and columns:",
        )
    target = schema.arrow_schema()
    if lineage:
        target = target.append(pa.field(LINEAGE_COLUMN, pa.string()))
    table = pa.concat_tables(tables) if tables else target.empty_table()
    table, duplicates = _dedupe(table, dedupe, list(schema.columns))
    if order_by:
        table = table.sort_by([(name, "ascending") for name in order_by])
    digest = content_hash(table, order_by)
    # the same hash in the footer is not enough: a file damaged since is written again
    changed = read_hash(output) != digest or not verify(output)
    metadata = {ORDER_KEY: json.dumps(list(order_by)).encode()}
    table = table.replace_schema_metadata(metadata)
    result = CollectResult(
        output=output,
        files=tuple(names),
        rows_per_file=rows,
        rows=table.num_rows,
        duplicates=duplicates,
        content_hash=digest,
        changed=changed,
        skipped=tuple(skipped),
        ignored=ignored,
        missing=missing,
    )
    return Gathered(table, result)


def _read_file(
    path: Path, shown: str, schema: Schema, sheet: str | int, header_row: int
) -> Normalised:
    """One workbook's sheet in the schema; ``BadWorkbook`` for anything wrong with it."""
    import pyarrow as pa

    try:
        read = read_sheet(
            path, sheet, header_row, lambda h: schema.target(h) is not None, shown=shown
        )
        if not read.columns:
            raise BadWorkbook(
                shown,
                f"none of its columns on row {header_row} ({', '.join(read.ignored)}) is "
                f"one of columns: ({', '.join(schema.columns)})",
                sheet=read.name,
                hint="check header_row: and sheet:, or add the names to rename:",
            )
        return normalise(read, schema)
    except pa.ArrowException:  # a conversion not foreseen: still this file's fault
        raise BadWorkbook(
            shown,
            "its values cannot be made into the types of columns:",
            sheet=sheet,
            hint="declare the columns it holds as string in columns:, then look at the file",
        ) from None


def collect(
    files: Sequence[Path],
    output: Path,
    columns: Mapping[str, str],
    *,
    rename: Mapping[str, str] | None = None,
    formats: Sequence[str] = (),
    sheet: str | int = 0,
    header_row: int = 1,
    lineage: bool = True,
    dedupe: Sequence[str] | bool = False,
    order_by: Sequence[str] = (),
    on_bad_file: Literal["fail", "skip"] = "fail",
    root: Path | None = None,
) -> CollectResult:
    """Collect the sheets of ``files`` into ``output`` (Parquet, snappy, written whole or not
    at all), only when the content changed; the previous file is kept for ``restore_output``.
    ``columns`` maps each column to a type name (``ordo.extractors._arrow.TYPE_NAMES``)."""
    schema = Schema(dict(columns), dict(rename or {}), tuple(formats))
    gathered = gather(
        files,
        output,
        schema,
        sheet=sheet,
        header_row=header_row,
        lineage=lineage,
        dedupe=dedupe,
        order_by=order_by,
        on_bad_file=on_bad_file,
        root=root,
    )
    if gathered.result.changed:
        keep_previous(output)
        write_parquet(output, gathered.table, gathered.result.content_hash)
    return gathered.result


def _dedupe(
    table: pa.Table, dedupe: Sequence[str] | bool, columns: list[str]
) -> tuple[pa.Table, int]:
    """``table`` without duplicate rows (by ``dedupe``'s columns, or all of ``columns``),
    keeping the last of each; and how many went."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = columns if dedupe is True else list(dedupe or [])
    if not keys or table.num_rows < 2:
        return table, 0
    position = "__ordo_position"
    indexed = table.select(keys).append_column(
        position, pa.array(range(table.num_rows), pa.int64())
    )
    last = indexed.group_by(keys, use_threads=False).aggregate([(position, "max")])
    keep = pc.sort_indices(last.column(f"{position}_max"))
    taken = pc.take(last.column(f"{position}_max"), keep)
    duplicates = table.num_rows - len(taken)
    if not duplicates:
        return table, 0
    return table.take(taken), duplicates


def verify(path: Path) -> bool:
    """Whether ``path`` is a Parquet file ordo wrote whose content matches its footer hash."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stored = read_hash(path)
    if stored is None:
        return False
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError):
        return False
    raw = (table.schema.metadata or {}).get(ORDER_KEY)
    try:
        order_by = json.loads(raw) if raw is not None else []
    except ValueError:
        return False
    return bool(content_hash(table, order_by) == stored)


def previous_path(output: Path) -> Path:
    """Where the version before ``output``'s current one is kept."""
    return output.parent / PREVIOUS_DIR / output.name


def keep_previous(output: Path) -> bool:
    """Keep ``output`` as its previous version, if it is a good one (a damaged file never
    replaces the good one kept before); True when it was kept. A hard link where the file
    system allows it (no copy), else a copy, put in place atomically either way."""
    from ordo._files import stage_writing

    if not output.exists() or not verify(output):
        return False
    backup = previous_path(output)
    backup.parent.mkdir(exist_ok=True)
    link = backup.with_name(f".{backup.name}.ordo-link")
    link.unlink(missing_ok=True)
    try:
        os.link(output, link)
    except OSError:
        with output.open("rb") as source:
            stage_writing(backup, lambda out: _copy(source, out)).replace()
        return True
    os.replace(link, backup)
    return True


def restore_output(output: Path) -> str:
    """Make ``output`` its last good version: nothing to do when it is intact, else the kept
    previous version put back. Returns what was done; ``PermanentError`` when neither is good."""
    from ordo._files import stage_writing

    if output.exists() and verify(output):
        return f"{output.name} is intact: it is the last good version, nothing to restore"
    backup = previous_path(output)
    if backup.exists() and verify(backup):
        state = "was damaged" if output.exists() else "was missing"
        with backup.open("rb") as source:
            stage_writing(output, lambda out: _copy(source, out), make_folders=True).replace()
        return f"{output.name} {state}: put back its previous version from {PREVIOUS_DIR}/"
    why = "is damaged" if output.exists() else "does not exist"
    raise PermanentError(
        f"no good version of {output} to restore: it {why} and no intact previous version "
        f"is kept in {backup.parent}",
        hint="correct the reports and run the collect step again",
    )


def _copy(source: Any, out: Any) -> None:
    import shutil

    shutil.copyfileobj(source, out, 1 << 20)


def _shown(path: Path, root: Path | None) -> str:
    """A file as messages and ``source_file`` name it: relative to the project when inside."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)
