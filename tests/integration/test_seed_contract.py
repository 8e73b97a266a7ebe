"""The seed kind passes the kind contract (``ordo.kinds.contract``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import ordo
from ordo.kinds import get_kind, kind_for_file
from ordo.kinds.contract import KindContract
from tests.support.project import make_project


class TestSeedKind(KindContract):
    kind = get_kind("seed")

    def step(self) -> dict[str, Any]:
        return {"file": "customers.csv"}

    def write_files(self, project: Path) -> None:
        (project / "seeds").mkdir(exist_ok=True)
        (project / "seeds" / "customers.csv").write_text("id,name\n1,x\n", encoding="utf-8")


class TestSeedKindGlob(KindContract):
    kind = get_kind("seed")

    def step(self) -> dict[str, Any]:
        return {"files": "*.csv", "tables": {"a": "first"}, "dependencies": {"b": "a"}}

    def missing_file_step(self) -> dict[str, Any]:
        return {"file": "no-such-file.csv"}

    def write_files(self, project: Path) -> None:
        for name in ("a", "b"):
            (project / "queue" / f"{name}.csv").write_text("id\n1\n", encoding="utf-8")


def test_csv_files_are_seeds() -> None:
    assert kind_for_file("customers.CSV") is get_kind("seed")


def test_per_file_column_types_must_name_files(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: seeds
            type: seed
            files: "*.csv"
            column_types: {custmers: {id: text}}
        """
    root = make_project(tmp_path, manifest)
    (root / "seeds").mkdir()
    (root / "seeds" / "customers.csv").write_text("id\n1\n")
    with pytest.raises(ordo.ManifestInvalid, match="'custmers', not a file of this step"):
        ordo.plan(project=root, environ={})
