"""``ndjson`` sources: one JSON object a line, read a batch of lines at a time.

Each line is parsed by the standard library and typed from its values as ``json`` sources
are (``ordo.extractors._arrow.Batcher``): a JSON string stays text, so ``"00123"`` and
``"2024-02-29"`` are kept as written (pyarrow's own JSON reader would turn the date into a
timestamp). A column whose later values change kind needs ``column_types``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ordo.errors import PermanentError
from ordo.extractors._arrow import Batcher, ColumnTypes
from ordo.extractors._files import FileConfig, FileSource
from ordo.extractors.base import BATCH_ROWS

if TYPE_CHECKING:
    import pyarrow as pa


__all__ = ["NdjsonConfig", "NdjsonExtractor"]


class NdjsonConfig(FileConfig):
    column_types: ColumnTypes = Field(default_factory=dict)
    batch_rows: int = Field(BATCH_ROWS, ge=1)


class NdjsonExtractor(FileSource[NdjsonConfig]):
    config_model: ClassVar[type[NdjsonConfig]] = NdjsonConfig
    kind = "ndjson"

    def read(self, file: Path) -> Iterator[pa.RecordBatch]:
        shown = self.shown(file)
        batcher = Batcher(self.config.column_types, what=shown)
        records: list[dict[str, Any]] = []
        with file.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise PermanentError(
                        f"{shown}, line {number}: not valid JSON ({exc.msg}, column {exc.colno})"
                    ) from None
                if not isinstance(record, dict):
                    raise PermanentError(f"{shown}, line {number}: not a JSON object")
                records.append(record)
                if len(records) == self.config.batch_rows:
                    yield batcher.from_records(records)
                    records = []
        if records or batcher.schema is None:
            yield batcher.from_records(records)
