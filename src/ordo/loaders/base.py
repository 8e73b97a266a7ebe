"""The loader extension point: a target that consumes Arrow record batches.

A loader is built from its validated config (its class's ``config_model``) and a
``PlanContext`` at plan time; ``load`` then takes an iterator of ``pyarrow.RecordBatch``es
(one schema), writes them as they come, never holding them all, and returns the rows it
wrote. A table target writes through the step's connection, inside the unit's transaction;
a file target writes a temp file beside its target and stages it (``DataContext.stage``), to
be renamed into place once the unit commits. Implementations are registered in the
``ordo.loaders`` entry-point group, one module each; ``ordo.loaders.contract`` is the suite
every one of them passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import pyarrow as pa

    from ordo.data.plugins import DataContext, PlanContext
    from ordo.db.dialects import Dialect

__all__ = ["Loader", "LoaderConfig", "LoaderFactory"]


class LoaderConfig(BaseModel):
    """Base of a loader's config model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Loader(Protocol):
    """A built target: what the plan line says, what commits on its own, and the load."""

    def describe(self) -> str:
        """A few words for the plan line: ``table stg_orders (merge on id)``."""
        ...

    def implicit_commits(self, dialect: Dialect | None) -> tuple[str, ...]:
        """What the load does that commits the open transaction on ``dialect`` by itself
        (DDL on MySQL, MariaDB), as short texts for messages; ``()`` for none."""
        ...

    def load(self, batches: Iterator[pa.RecordBatch], ctx: DataContext) -> int:
        """Write every batch; the rows written."""
        ...


class LoaderFactory(Protocol):
    """What the ``ordo.loaders`` entry point names: a class, with its config model."""

    config_model: ClassVar[type[BaseModel]]
    requires: ClassVar[tuple[str, ...]]

    def __call__(self, config: Any, plan: PlanContext) -> Loader: ...
