"""``ordo datasets list|history|rollback`` end to end, on a root that real publish runs filled."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

import ordo
from tests.support.cli import run_in_process
from tests.support.project import make_project
from tests.support.published import (
    annotations,
    consistency_problems,
    products,
    write_schemas,
    write_table,
)

ROOT = "agents/shared_db/DataLoaderAgent"
MANIFEST = f"""\
name: datasets
steps:
  - name: publish
    type: publish
    schemas: database/databaseSchemas.json
    root: {ROOT}
    datasets:
      productRecords: {{parquet: database/productRecords.parquet}}
"""


def ordo_datasets(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_in_process("datasets", *args, cwd=cwd)


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, list[str]]:
    """A project whose productRecords was published three times (1, 2, 3 rows)."""
    root = make_project(tmp_path / "p", MANIFEST)
    write_schemas(
        root / "database" / "databaseSchemas.json",
        {"productRecords": {"id": "int", "item": "text", "qty": "float"}},
    )
    names = []
    for n in (1, 2, 3):
        write_table(root / "database" / "productRecords.parquet", products(n))
        (root / "queue" / "manifest.yaml").write_text(MANIFEST)  # done marks off again
        result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
        assert result.status == "success"
        names.append(Path(annotations(root / ROOT)["productRecords"]).stem)
    return root, names


def test_list_shows_each_newest_version(published: tuple[Path, list[str]]) -> None:
    root, names = published
    done = ordo_datasets("list", cwd=root)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if "productRecords" in line]
    assert names[2] in line
    assert " 3 " in line
    assert "xxh3_128:" in line
    assert "newest" in line
    as_json = json.loads(ordo_datasets("list", "--json", cwd=root).stdout)
    assert [(v["dataset"], v["version"], v["rows"]) for v in as_json] == [
        ("productRecords", names[2], 3)
    ]


def test_history_lists_every_version_newest_first(published: tuple[Path, list[str]]) -> None:
    root, names = published
    found = json.loads(ordo_datasets("history", "productRecords", "--json", cwd=root).stdout)
    assert [(v["version"], v["rows"], v["newest"]) for v in found] == [
        (names[2], 3, True),
        (names[1], 2, False),
        (names[0], 1, False),
    ]
    shown = ordo_datasets("history", "productRecords", cwd=root).stdout
    assert shown.index(names[2]) < shown.index(names[1]) < shown.index(names[0])


def test_rollback_and_rollback_to(published: tuple[Path, list[str]]) -> None:
    root, names = published
    done = ordo_datasets("rollback", "productRecords", cwd=root)
    assert done.returncode == 0, done.stderr
    assert f"productRecords: {names[1]} is the newest version again (2 rows)" in done.stdout
    assert Path(annotations(root / ROOT)["productRecords"]).stem == names[1]
    done = ordo_datasets("rollback", "productRecords", "--to", names[0], cwd=root)
    assert done.returncode == 0, done.stderr
    assert Path(annotations(root / ROOT)["productRecords"]).stem == names[0]
    history = json.loads(ordo_datasets("history", "productRecords", "--json", cwd=root).stdout)
    assert {v["version"] for v in history} == set(names)  # nothing lost
    assert consistency_problems(root / ROOT) == []


def test_an_unknown_dataset_or_version_lists_the_known_ones(
    published: tuple[Path, list[str]],
) -> None:
    root, names = published
    done = ordo_datasets("history", "products", cwd=root)
    assert done.returncode == 2
    assert "no dataset 'products'" in done.stderr
    assert "its datasets: productRecords" in done.stderr
    done = ordo_datasets("rollback", "productRecords", "--to", "v1", cwd=root)
    assert done.returncode == 2
    assert "has no older version 'v1'" in done.stderr
    assert f"{names[2]} (newest)" in done.stderr
    assert "Traceback" not in done.stderr


def test_root_from_the_option_or_the_manifest(
    published: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, _ = published
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = ordo_datasets("list", "--root", str(root / ROOT), cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "productRecords" in done.stdout
    done = ordo_datasets("list", "--root", str(elsewhere), cwd=elsewhere)
    assert done.returncode == 2
    assert "holds no published datasets" in done.stderr
    two = textwrap.dedent(
        MANIFEST
        + """\
  - name: publish again
    type: publish
    schemas: database/databaseSchemas.json
    root: other
    datasets:
      productRecords: {parquet: database/productRecords.parquet}
"""
    )
    (root / "queue" / "manifest.yaml").write_text(two)
    done = ordo_datasets("list", cwd=root)
    assert done.returncode == 2
    assert f"write 2 roots ({ROOT}, other)" in done.stderr
    assert "--root DIR" in done.stderr


def test_a_root_that_cannot_be_locked_is_told_in_words(
    published: tuple[Path, list[str]],
) -> None:
    root, _ = published
    (root / ROOT / ".ordo-datasets.lock").unlink()
    (root / ROOT / ".ordo-datasets.lock").mkdir()  # where the lock file must go
    done = ordo_datasets("list", cwd=root)
    assert done.returncode == 1
    assert f"cannot use {root / ROOT}" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_root_or_manifest_it_asks_for_root(tmp_path: Path) -> None:
    done = ordo_datasets("list", cwd=tmp_path)
    assert done.returncode == 2
    assert "so no publish step tells where the datasets are" in done.stderr
    assert "--root DIR" in done.stderr
