"""The extractor extension point: a source of Arrow record batches.

An extractor is built from its validated config (its class's ``config_model``) and a
``PlanContext`` at plan time, where it finds its files and checks what it can without
touching a database; ``batches`` then yields ``pyarrow.RecordBatch``es, all with one
schema, a bounded number of rows at a time, so a source of any size never sits in memory.
Implementations are registered in the ``ordo.extractors`` entry-point group, one module
each; ``ordo.extractors.contract`` is the suite every one of them passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import DataContext, PlanContext

__all__ = ["BATCH_ROWS", "Extractor", "ExtractorConfig", "ExtractorFactory"]

BATCH_ROWS = 65_536
"""Rows per batch where the extractor chooses: memory stays bounded by a few of them."""


class ExtractorConfig(BaseModel):
    """Base of an extractor's config model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Extractor(Protocol):
    """A built source: what the plan line says, and its batches."""

    def describe(self) -> str:
        """A few words for the plan line: ``csv orders/*.csv (3 files)``."""
        ...

    def batches(self, ctx: DataContext) -> Iterator[pa.RecordBatch]:
        """The data, batch by batch, every batch with the same schema."""
        ...


class ExtractorFactory(Protocol):
    """What the ``ordo.extractors`` entry point names: a class, with its config model."""

    config_model: ClassVar[type[BaseModel]]
    requires: ClassVar[tuple[str, ...]]  # modules it imports to run (``pyarrow``...)

    def __call__(self, config: Any, plan: PlanContext) -> Extractor: ...
