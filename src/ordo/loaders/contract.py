"""The contract every loader passes: ordo's own, the fake, and a plugin author's.

As ``ordo.extractors.contract`` does for sources: subclass ``LoaderContract`` in a pytest
module (the class name must start with ``Test``), set ``factory`` to the loader class and
describe one valid target::

    class TestMyTarget(LoaderContract):
        factory = MyTarget

        def config(self) -> dict[str, Any]:
            return {"path": "out.txt"}

It loads the same three rows (an integer, a text with leading zeros, an exact decimal, a
date, a NULL and an empty string) in two batches, inside a transaction on the project's
SQLite ``default`` connection, and checks that the loader says it wrote three rows, that a
second load of the same rows also works (a rerun, as a retry does), that building it wrote
nothing and opened no database, and that it describes itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from ordo.data._contract import DATABASE, data_context, plan_context, tree, unknown_key_errors
from ordo.loaders.base import LoaderFactory

__all__ = ["ROWS", "LoaderContract"]

ROWS: list[dict[str, Any]] = [
    {"id": 1, "code": "00123", "amount": Decimal("1.50"), "day": dt.date(2024, 2, 29)},
    {"id": 2, "code": "", "amount": None, "day": None},
    {"id": 3, "code": None, "amount": Decimal("-0.25"), "day": dt.date(2024, 3, 1)},
]


def batches() -> list[Any]:
    """``ROWS`` as two record batches of one schema."""
    import pyarrow as pa

    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("code", pa.string()),
            ("amount", pa.decimal128(10, 2)),
            ("day", pa.date32()),
        ]
    )
    return [
        pa.RecordBatch.from_pylist(ROWS[:2], schema=schema),
        pa.RecordBatch.from_pylist(ROWS[2:], schema=schema),
    ]


class LoaderContract:
    """The shared tests; a subclass sets ``factory`` and overrides ``config``."""

    factory: ClassVar[LoaderFactory]

    def config(self) -> dict[str, Any]:
        """The keys of one valid target, besides ``type``."""
        raise NotImplementedError

    def build(self, root: Path) -> Any:
        plan = plan_context(root, "target")
        config = self.factory.config_model.model_validate(self.config())
        return self.factory(config, plan), plan

    def test_config_model_forbids_unknown_keys(self) -> None:
        errors = unknown_key_errors(self.factory.config_model, self.config())
        assert errors == ["extra_forbidden"]

    def test_building_writes_nothing_and_opens_no_database(self, tmp_path: Path) -> None:
        plan_context(tmp_path, "target")
        before = tree(tmp_path)
        loader, plan = self.build(tmp_path)
        assert tree(tmp_path) == before
        assert not (tmp_path / DATABASE).exists()
        assert loader.describe().strip()
        assert isinstance(loader.implicit_commits(plan.dialect), tuple)

    def test_load_returns_the_rows_written_and_runs_again(self, tmp_path: Path) -> None:
        loader, plan = self.build(tmp_path)
        for _ in range(2):
            with data_context(plan) as ctx:
                assert loader.load(iter(batches()), ctx) == len(ROWS)
                for staged in ctx.staged:
                    staged.replace()
