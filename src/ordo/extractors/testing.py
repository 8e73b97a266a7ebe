"""A fake source for tests: ``RowsExtractor`` yields the rows its config holds.

It ships in the package (as ``ordo.kinds.testing`` does for kinds) so ordo's tests, the
contract suites and a plugin author's tests share one fake. It is not an entry point: a test
adds it for a block::

    with registered("rows", RowsExtractor):
        run(manifest)  # source: {type: rows, rows: [{id: 1}, {id: 2}], batch_rows: 1}

``fail_after`` makes it raise a ``PermanentError`` once that many batches are out, to show
that a load that fails part-way leaves its target as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ordo.errors import PermanentError
from ordo.extractors._arrow import Batcher, ColumnTypes
from ordo.extractors.base import ExtractorConfig

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import DataContext, PlanContext

__all__ = ["RowsConfig", "RowsExtractor"]


class RowsConfig(ExtractorConfig):
    rows: list[dict[str, Any]] = Field(min_length=1)
    column_types: ColumnTypes = Field(default_factory=dict)
    batch_rows: int = Field(1000, ge=1)
    fail_after: int | None = Field(None, ge=0)  # batches given before it fails


class RowsExtractor:
    config_model: ClassVar[type[RowsConfig]] = RowsConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)

    def __init__(self, config: RowsConfig, plan: PlanContext) -> None:
        self.config = config

    def describe(self) -> str:
        return f"rows ({len(self.config.rows)})"

    def batches(self, ctx: DataContext) -> Iterator[pa.RecordBatch]:
        config = self.config
        batcher = Batcher(config.column_types, what="rows")
        size = config.batch_rows
        for number, start in enumerate(range(0, len(config.rows), size)):
            if config.fail_after is not None and number >= config.fail_after:
                raise PermanentError(f"rows source told to fail after {number} batches")
            yield batcher.from_records(config.rows[start : start + size])
