"""A fake target for tests: ``MemoryLoader`` keeps the rows it is given, by ``name``.

It ships in the package (as ``ordo.kinds.testing`` does for kinds) so ordo's tests, the
contract suites and a plugin author's tests share one fake. It is not an entry point: a test
adds it for a block::

    with registered("memory", MemoryLoader):
        run(manifest)  # target: {type: memory, name: out}
    assert MemoryLoader.received["out"] == [{"id": 1}, {"id": 2}]
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ordo.loaders.base import LoaderConfig

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import DataContext, PlanContext
    from ordo.db.dialects import Dialect

__all__ = ["MemoryConfig", "MemoryLoader"]


class MemoryConfig(LoaderConfig):
    name: str = Field("default", min_length=1)


class MemoryLoader:
    config_model: ClassVar[type[MemoryConfig]] = MemoryConfig
    requires: ClassVar[tuple[str, ...]] = ("pyarrow",)
    received: ClassVar[dict[str, list[dict[str, Any]]]] = {}  # rows by name, the last load's
    schemas: ClassVar[dict[str, pa.Schema]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, config: MemoryConfig, plan: PlanContext) -> None:
        self.config = config

    def describe(self) -> str:
        return f"memory {self.config.name}"

    def implicit_commits(self, dialect: Dialect | None) -> tuple[str, ...]:
        return ()

    def load(self, batches: Iterator[pa.RecordBatch], ctx: DataContext) -> int:
        rows: list[dict[str, Any]] = []
        schema = None
        for batch in batches:
            schema = batch.schema
            rows.extend(batch.to_pylist())
        with self._lock:
            self.received[self.config.name] = rows
            if schema is not None:
                self.schemas[self.config.name] = schema
        return len(rows)
