"""What the file sources share: a ``path`` that is one file or a glob, found at plan time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from ordo.errors import PermanentError
from ordo.extractors.base import ExtractorConfig

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import DataContext, PlanContext

__all__ = ["FileConfig", "FileSource"]


class FileConfig(ExtractorConfig):
    path: str  # one file or a glob, under the project folder or beside the manifest


ConfigT = TypeVar("ConfigT", bound=FileConfig)


class FileSource(Generic[ConfigT]):
    """A source reading the files ``path`` named (found at plan time), one after the other.

    Subclasses read one file in ``read``; every file must give the schema the first gave.
    """

    kind: str = "file"
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, config: ConfigT, plan: PlanContext) -> None:
        self.config = config
        self.path_text = config.path
        self.files = plan.find_files(config.path)
        self.root = plan.root

    def batches(self, ctx: DataContext) -> Iterator[pa.RecordBatch]:
        return self.each_file()

    def describe(self) -> str:
        count = len(self.files)
        more = f" ({count} files)" if count > 1 else ""
        return f"{self.kind} {self.path_text}{more}"

    def shown(self, file: Path) -> str:
        """``file`` as the user knows it: relative to the project where it is inside it."""
        try:
            return str(file.relative_to(self.root))
        except ValueError:
            return str(file)

    def read(self, file: Path) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def each_file(self) -> Iterator[pa.RecordBatch]:
        """Every file's batches in turn, each file's schema checked against the first's."""
        import pyarrow as pa

        schema: pa.Schema | None = None
        for file in self.files:
            try:
                for batch in self.read(file):
                    if schema is None:
                        schema = batch.schema
                    elif not batch.schema.equals(schema):
                        raise PermanentError(
                            f"{self.shown(file)} has other columns than {self.shown(self.files[0])}"
                            f" ({', '.join(batch.schema.names)} vs {', '.join(schema.names)})",
                            hint="a glob loads files of one layout; use one load step per layout",
                        )
                    yield batch
            except (pa.ArrowException, OSError) as exc:
                text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise PermanentError(f"{self.shown(file)}: {text}") from exc
