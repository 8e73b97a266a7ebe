"""``type: clear`` through the ``ordo`` command on SQLite: the plan line, the dropped list on
the console, a rehearsal that drops nothing, and a refusal that names both tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.cli import Runner
from tests.support.project import make_project

MANIFEST = """\
name: rebuild
steps:
  - name: wipe staging
    type: clear
    prefixes: [stg_, fct_]
    keep: [stg_calendar]
  - name: count
    sql: SELECT COUNT(*) AS n FROM sqlite_master WHERE name LIKE 'stg%'
"""

TABLES = [
    "CREATE TABLE stg_customers (id INTEGER PRIMARY KEY)",
    "CREATE TABLE fct_orders (id INTEGER, customer INTEGER REFERENCES stg_customers (id))",
    "CREATE TABLE stg_calendar (day TEXT)",
    "CREATE TABLE stgx_notes (id INTEGER)",
    "CREATE VIEW stg_order_totals AS SELECT customer, COUNT(*) AS n FROM fct_orders GROUP BY 1",
]


def names(root: Path) -> set[str]:
    with sqlite3.connect(root / "data" / "test.db") as conn:
        found = conn.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE '%ordo_ledger%'")
        return {row[0] for row in found}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "p", MANIFEST)
    with sqlite3.connect(root / "data" / "test.db") as conn:
        for sql in TABLES:
            conn.execute(sql)
    return root


def test_run_shows_what_it_dropped(ordo_process: Runner, project: Path) -> None:
    done = ordo_process("run", "--yes", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "[1] CLR: wipe staging - Clear: prefixes stg_, fct_; keep stg_calendar" in out
    assert "dropped view stg_order_totals" in out
    assert out.index("dropped table fct_orders") < out.index("dropped table stg_customers")
    assert 'dropped=["stg_order_totals","fct_orders","stg_customers"]' in out
    assert names(project) == {"stg_calendar", "stgx_notes"}


def test_rehearse_shows_what_it_would_drop_and_drops_nothing(
    ordo_cli: Runner, project: Path
) -> None:
    before = names(project)
    done = ordo_cli("run", "--rehearse", "--yes", cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'dropped=["stg_order_totals","fct_orders","stg_customers"]' in done.stdout
    assert "Rehearsal complete: everything it did was rolled back." in done.stdout
    assert names(project) == before


def test_a_kept_table_that_needs_a_cleared_one_stops_it(ordo_cli: Runner, project: Path) -> None:
    with sqlite3.connect(project / "data" / "test.db") as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER, c INTEGER REFERENCES stg_customers (id))")
    before = names(project)
    done = ordo_cli("run", "--yes", cwd=project)
    assert done.returncode == 1
    said = done.stdout + done.stderr
    assert "table invoices (not cleared) has a foreign key to table stg_customers" in said
    assert "nothing was dropped" in said
    assert "Traceback" not in said
    assert names(project) == before


def test_a_bad_option_is_refused_before_anything_runs(ordo_cli: Runner, project: Path) -> None:
    manifest = project / "queue" / "manifest.yaml"
    manifest.write_text(MANIFEST.replace("prefixes: [stg_, fct_]", "prefixes: [stg_, '']"))
    before = names(project)
    done = ordo_cli("run", "--yes", cwd=project)
    assert done.returncode == 2
    assert "prefix 2 of prefixes is empty" in done.stdout + done.stderr
    assert names(project) == before
