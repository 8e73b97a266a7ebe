"""``json`` sources: a JSON document holding an array of records, at ``records`` if nested.

A JSON document is parsed whole (its end must be seen before it is valid JSON), so this is
for files that fit in memory; ``ndjson`` streams any size. The records go out in batches of
``batch_rows``, typed from their values as ``ordo.extractors._arrow.Batcher`` does.
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


__all__ = ["JsonConfig", "JsonExtractor", "records_at"]


class JsonConfig(FileConfig):
    records: str | None = None  # dotted path to the array (``data.items``); None: the top
    column_types: ColumnTypes = Field(default_factory=dict)
    batch_rows: int = Field(BATCH_ROWS, ge=1)


def records_at(document: Any, path: str | None, what: str) -> list[dict[str, Any]]:
    """The array of objects at the dotted ``path`` of ``document``; ``PermanentError`` saying
    where it is not one."""
    found = document
    for part in path.split(".") if path else []:
        if isinstance(found, dict) and part in found:
            found = found[part]
        elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
            found = found[int(part)]
        else:
            raise PermanentError(f"{what} has nothing at '{path}' (no '{part}')")
    if found is None:
        return []
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        at = f" at '{path}'" if path else ""
        raise PermanentError(
            f"{what}: the value{at} is not an array of objects",
            hint="set records: to the dotted path of the array, e.g. records: data.items",
        )
    return found


class JsonExtractor(FileSource[JsonConfig]):
    config_model: ClassVar[type[JsonConfig]] = JsonConfig
    kind = "json"

    def read(self, file: Path) -> Iterator[pa.RecordBatch]:
        shown = self.shown(file)
        try:
            with file.open("rb") as handle:
                document = json.load(handle)
        except json.JSONDecodeError as exc:
            raise PermanentError(
                f"{shown} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        records = records_at(document, self.config.records, shown)
        batcher = Batcher(self.config.column_types, what=shown)
        size = self.config.batch_rows
        for start in range(0, len(records), size):
            yield batcher.from_records(records[start : start + size])
