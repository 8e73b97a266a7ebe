"""``ndjson`` targets: one JSON object a line, one line a row, written as the batches come.

Exact decimals and times are written as text (``"12.50"``, ISO dates), bytes as base64.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, ClassVar

from ordo.loaders._files import FileTarget, FileTargetConfig
from ordo.loaders._json import json_lines

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["NdjsonLoader"]


class NdjsonLoader(FileTarget):
    config_model: ClassVar[type[FileTargetConfig]] = FileTargetConfig
    kind = "ndjson"

    def write(self, batches: Iterator[pa.RecordBatch], out: BinaryIO) -> int:
        rows = 0
        for batch in batches:
            out.write(json_lines(batch))
            rows += batch.num_rows
        return rows
