"""``csv`` targets: the batches as one CSV file with a header, written as they come.

NULL is an empty field and an empty string is ``""``, so the file reads back as it was
written; nested values (structs, lists) are written as JSON text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, ClassVar

from pydantic import Field

from ordo.loaders._files import FileTarget, FileTargetConfig
from ordo.loaders._json import nested_as_json

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import PlanContext

__all__ = ["CsvConfig", "CsvLoader"]


class CsvConfig(FileTargetConfig):
    delimiter: str = Field(",", min_length=1, max_length=1)
    header: bool = True


class CsvLoader(FileTarget):
    config_model: ClassVar[type[CsvConfig]] = CsvConfig
    kind = "csv"

    def __init__(self, config: CsvConfig, plan: PlanContext) -> None:
        super().__init__(config, plan)
        self.config = config

    def write(self, batches: Iterator[pa.RecordBatch], out: BinaryIO) -> int:
        from pyarrow import csv as pa_csv

        rows = 0
        writer: pa_csv.CSVWriter | None = None
        options = pa_csv.WriteOptions(
            include_header=self.config.header, delimiter=self.config.delimiter
        )
        try:
            for batch in batches:
                flat = nested_as_json(batch)
                if writer is None:
                    writer = pa_csv.CSVWriter(out, flat.schema, write_options=options)
                writer.write_batch(flat)
                rows += batch.num_rows
        finally:
            if writer is not None:
                writer.close()
        return rows
