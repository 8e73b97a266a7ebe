"""A plugin package registers its own extractor through a real entry point, and ``ordo run``
loads from it; the built-in sources and targets through the ``ordo`` command too."""

from __future__ import annotations

import os
import sqlite3
import tomllib
from pathlib import Path

import pytest

from tests.support.cli import Runner
from tests.support.project import make_project

PLUGIN = Path(__file__).parents[1] / "plugins" / "ordo_test_plugin"


def install_metadata(into: Path) -> str:
    """The plugin's dist-info, written from its pyproject.toml (what an install writes), in a
    folder that goes on PYTHONPATH with the plugin's source: importlib.metadata then finds its
    entry points as those of any installed package. Returns that PYTHONPATH."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    dist = into / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in entries.items()]
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return os.pathsep.join([str(into), str(PLUGIN / "src")])


def test_a_plugin_extractor_runs_from_a_manifest(ordo_process: Runner, tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: numbers
            type: load
            source: {type: fibonacci, count: 25, batch_rows: 10}
            target: {type: table, table: fib}
        """
    root = make_project(tmp_path / "p", manifest)
    path = install_metadata(tmp_path / "site")
    done = ordo_process("run", "-y", cwd=root, env={"PYTHONPATH": path})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "LOAD: numbers - fibonacci (25) -> table fib (replace)" in done.stdout
    with sqlite3.connect(root / "data" / "test.db") as conn:
        rows = conn.execute("SELECT n, value FROM fib ORDER BY n").fetchall()
    assert len(rows) == 25
    assert rows[:5] == [(1, 0), (2, 1), (3, 1), (4, 2), (5, 3)]
    assert rows[-1] == (25, 46368)


def test_without_the_plugin_its_type_is_unknown(ordo_process: Runner, tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: numbers
            type: load
            source: {type: fibonaci, count: 3}
            target: {type: table, table: fib}
        """
    root = make_project(tmp_path / "p", manifest)
    path = install_metadata(tmp_path / "site")
    done = ordo_process("run", "-y", cwd=root, env={"PYTHONPATH": path})
    assert done.returncode == 2
    assert "unknown source type 'fibonaci'" in done.stderr
    assert "did you mean 'fibonacci'?" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def csv_project(tmp_path: Path) -> Path:
    manifest = """\
        steps:
          - name: orders
            type: load
            source: {type: csv, path: 'data/orders_*.csv', column_types: {qty: int}}
            target: {type: table, table: orders}
          - name: export
            type: load
            source: {type: sql, query: 'SELECT zip, qty FROM orders ORDER BY qty'}
            target: {type: parquet, path: exports/orders.parquet}
        """
    root = make_project(tmp_path / "p", manifest)
    (root / "data" / "orders_1.csv").write_text("zip,qty\n00123,1\n")
    (root / "data" / "orders_2.csv").write_text("zip,qty\n09000,2\n,3\n")
    return root


def test_ordo_run_loads_files_into_a_table_and_exports_it(
    ordo_cli: Runner, csv_project: Path
) -> None:
    dry = ordo_cli("run", "--dry-run", cwd=csv_project)
    assert dry.returncode == 0, dry.stderr
    assert "LOAD: orders - csv data/orders_*.csv (2 files) -> table orders (replace)" in dry.stdout
    assert not (csv_project / "data" / "test.db").exists()
    done = ordo_cli("run", "-y", cwd=csv_project)
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(csv_project / "data" / "test.db") as conn:
        assert conn.execute("SELECT zip, qty FROM orders ORDER BY qty").fetchall() == [
            ("00123", 1),
            ("09000", 2),
            (None, 3),
        ]
    import pyarrow.parquet as pq

    table = pq.read_table(csv_project / "exports" / "orders.parquet")
    assert table.to_pylist()[0] == {"zip": "00123", "qty": 1}
    [log] = list((csv_project / "logs").glob("ordo_*.log"))
    assert (
        "3 rows from csv data/orders_*.csv (2 files) to table orders (replace)" in log.read_text()
    )


def test_a_bad_source_key_exits_2_naming_the_key(ordo_cli: Runner, csv_project: Path) -> None:
    manifest = csv_project / "queue" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("column_types", "colum_types"))
    done = ordo_cli("run", "-y", cwd=csv_project)
    assert done.returncode == 2
    assert "source.colum_types: unknown key" in done.stderr
    assert "did you mean 'column_types'?" in done.stderr
    assert not (csv_project / "data" / "test.db").exists()
