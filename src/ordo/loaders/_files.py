"""What the file targets share: a path inside the project, written whole or not at all.

The file is written to a temp name beside its target as the batches come (``stage_writing``:
temp, fsync), and handed to the runner (``DataContext.stage``), which renames it into place
once the unit has committed: a load that fails leaves the old file as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from ordo._files import stage_writing
from ordo.errors import OutputFileError
from ordo.loaders.base import LoaderConfig

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import DataContext, PlanContext
    from ordo.db.dialects import Dialect

__all__ = ["FileTarget", "FileTargetConfig"]


class FileTargetConfig(LoaderConfig):
    path: str  # relative to the project folder, inside it


class FileTarget:
    """A target writing one file; a subclass writes the batches to the open temp file."""

    kind = "file"
    requires: tuple[str, ...] = ("pyarrow",)

    def __init__(self, config: FileTargetConfig, plan: PlanContext) -> None:
        self.path = plan.output_path(config.path)
        self.path_text = config.path

    def describe(self) -> str:
        return f"{self.kind} {self.path_text}"

    def implicit_commits(self, dialect: Dialect | None) -> tuple[str, ...]:
        return ()

    def write(self, batches: Iterator[pa.RecordBatch], out: BinaryIO) -> int:
        raise NotImplementedError

    def load(self, batches: Iterator[pa.RecordBatch], ctx: DataContext) -> int:
        rows: list[int] = []
        try:
            staged = stage_writing(
                self.path, lambda out: rows.append(self.write(batches, out)), make_folders=True
            )
        except OSError as exc:
            raise OutputFileError(f"cannot write {self.path_text}: {exc.strerror or exc}") from exc
        ctx.stage(staged)
        return rows[0]
