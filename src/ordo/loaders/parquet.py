"""``parquet`` targets: the batches as one Parquet file, written as they come."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, ClassVar, Literal

from ordo.loaders._files import FileTarget, FileTargetConfig

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import PlanContext

__all__ = ["ParquetConfig", "ParquetLoader"]


class ParquetConfig(FileTargetConfig):
    compression: Literal["snappy", "zstd", "gzip", "lz4", "none"] = "zstd"


class ParquetLoader(FileTarget):
    config_model: ClassVar[type[ParquetConfig]] = ParquetConfig
    kind = "parquet"

    def __init__(self, config: ParquetConfig, plan: PlanContext) -> None:
        super().__init__(config, plan)
        self.compression = config.compression

    def write(self, batches: Iterator[pa.RecordBatch], out: BinaryIO) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from ordo._files import arrow_sink

        rows = 0
        writer: pq.ParquetWriter | None = None
        with arrow_sink(out) as sink:
            try:
                for batch in batches:
                    if writer is None:
                        writer = pq.ParquetWriter(sink, batch.schema, compression=self.compression)
                    writer.write_batch(batch)
                    rows += batch.num_rows
                if writer is None:  # no batch at all: still a valid (empty) Parquet file
                    writer = pq.ParquetWriter(sink, pa.schema([]), compression=self.compression)
            finally:
                if writer is not None:
                    writer.close()
        return rows
