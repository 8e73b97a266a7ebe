"""The contract every extractor passes: ordo's own, the fake, and a plugin author's.

As ``ordo.kinds.contract`` does for step kinds: subclass ``ExtractorContract`` in a pytest
module (the class name must start with ``Test``), set ``factory`` to the extractor class and
describe one valid source::

    class TestMySource(ExtractorContract):
        factory = MySource

        def config(self) -> dict[str, Any]:
            return {"path": "in.txt"}

        def write_files(self, root: Path) -> None:
            (root / "in.txt").write_text("a\\n1\\n")

Each test builds a project in pytest's ``tmp_path`` whose ``default`` connection is a SQLite
file there. It checks that the config model forbids unknown keys, that building the source
(plan time) writes nothing and opens no database, that it describes itself, and that its
batches are ``pyarrow.RecordBatch``es sharing one schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from ordo.data._contract import DATABASE, data_context, plan_context, tree, unknown_key_errors
from ordo.extractors.base import ExtractorFactory

__all__ = ["ExtractorContract"]


class ExtractorContract:
    """The shared tests; a subclass sets ``factory`` and overrides ``config``."""

    factory: ClassVar[ExtractorFactory]

    def config(self) -> dict[str, Any]:
        """The keys of one valid source, besides ``type``."""
        raise NotImplementedError

    def write_files(self, root: Path) -> None:
        """Write the files ``config`` names into the project folder (none by default)."""

    def build(self, root: Path) -> Any:
        plan = plan_context(root, "source")
        self.write_files(root)
        config = self.factory.config_model.model_validate(self.config())
        return self.factory(config, plan), plan

    def test_config_model_forbids_unknown_keys(self) -> None:
        errors = unknown_key_errors(self.factory.config_model, self.config())
        assert errors == ["extra_forbidden"]

    def test_declares_the_modules_it_needs(self) -> None:
        assert isinstance(self.factory.requires, tuple)
        assert all(isinstance(module, str) and module for module in self.factory.requires)

    def test_building_writes_nothing_and_opens_no_database(self, tmp_path: Path) -> None:
        plan_context(tmp_path, "source")
        self.write_files(tmp_path)
        before = tree(tmp_path)
        extractor, _ = self.build(tmp_path)
        assert tree(tmp_path) == before
        assert not (tmp_path / DATABASE).exists()
        described = extractor.describe()
        assert isinstance(described, str)
        assert described.strip()

    def test_batches_are_record_batches_of_one_schema(self, tmp_path: Path) -> None:
        import pyarrow as pa

        extractor, plan = self.build(tmp_path)
        with data_context(plan) as ctx:
            batches = list(extractor.batches(ctx))
        assert batches, "a source gives at least one batch (an empty one for no rows)"
        assert all(isinstance(batch, pa.RecordBatch) for batch in batches)
        assert all(batch.schema.equals(batches[0].schema) for batch in batches)
