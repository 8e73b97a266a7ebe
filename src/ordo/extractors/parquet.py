"""``parquet`` sources: one file or a glob, read a row group's batches at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from ordo.extractors._files import FileConfig, FileSource
from ordo.extractors.base import BATCH_ROWS

if TYPE_CHECKING:
    import pyarrow as pa


__all__ = ["ParquetConfig", "ParquetExtractor"]


class ParquetConfig(FileConfig):
    columns: tuple[str, ...] | None = None  # None: every column
    batch_rows: int = Field(BATCH_ROWS, ge=1)


class ParquetExtractor(FileSource[ParquetConfig]):
    config_model: ClassVar[type[ParquetConfig]] = ParquetConfig
    kind = "parquet"

    def read(self, file: Path) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        columns = list(self.config.columns) if self.config.columns is not None else None
        with pq.ParquetFile(file) as parquet:
            yield from parquet.iter_batches(batch_size=self.config.batch_rows, columns=columns)
