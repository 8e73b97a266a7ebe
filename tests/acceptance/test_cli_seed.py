"""``ordo run`` with CSV seeds, end to end on SQLite: the plan, the rows per file, bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import Runner
from tests.support.project import make_project

MANIFEST = """\
name: seeds
steps:
  - name: first
    sql: CREATE TABLE keep (x INTEGER)
  - name: reference
    type: seed
    files: "*.csv"
    dependencies: {customers: orders}
  - name: extra
    file: extra.csv
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "p", MANIFEST)
    (root / "seeds").mkdir()
    (root / "seeds" / "orders.csv").write_text("id,customer,zip\n1,1,00123\n2,1,00999\n")
    (root / "seeds" / "customers.csv").write_text('id,"group"\n1,a\n')
    (root / "queue" / "extra.csv").write_text("a\n1\n")
    return root


def tables(root: Path) -> set[str]:
    with sqlite3.connect(root / "data" / "test.db") as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def test_seeds_show_their_files_rows_and_order(ordo_cli: Runner, project: Path) -> None:
    plan = ordo_cli("run", "--dry-run", cwd=project)
    assert plan.returncode == 0, plan.stderr
    # by name customers.csv comes first; the dependencies put orders.csv before it
    assert "SEED: reference - 2 files: orders.csv -> orders, customers.csv -> customers" in (
        plan.stdout
    )
    assert "SEED: extra - 1 file: extra.csv -> extra" in plan.stdout
    done = ordo_cli("run", "-y", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "customers.csv -> customers: 1 row in" in done.stdout
    assert "orders.csv -> orders: 2 rows in" in done.stdout
    with sqlite3.connect(project / "data" / "test.db") as conn:
        assert conn.execute("SELECT zip FROM orders ORDER BY id").fetchall() == [
            ("00123",),
            ("00999",),
        ]


def test_a_bad_csv_exits_2_naming_file_and_line_and_loads_nothing(
    ordo_cli: Runner, project: Path
) -> None:
    (project / "seeds" / "orders.csv").write_text("id,customer,zip\n1,1,00123\n2,1\n")
    done = ordo_cli("run", "-y", cwd=project)
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "orders.csv:3: step 'reference': this row has 2 fields, the header has 3" in output
    assert "Traceback" not in output
    assert tables(project) <= {"ordo_ledger"}  # not even the sql step before it ran
