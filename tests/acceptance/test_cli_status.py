"""``ordo status``: steps done and pending, connections, the last run, tables; changes nothing.

On a healthy SQLite project it exits 0 and tells each step's state (with the done mark's
date and run), the connection's health, the last run, and the row count of a table a step
fills; on a project whose database does not answer, or whose DuckDB file another process
holds, it exits 1 and says why.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.support.cli import Runner
from tests.support.duckdb_lock import duckdb_held
from tests.support.project import make_project

MANIFEST = """\
name: shop
steps:
  - name: build
    sql: CREATE TABLE sales AS SELECT 1 AS id UNION ALL SELECT 2
    cleanup_target: sales
  - name: later
    sql: SELECT 1
  - name: parked
    sql: SELECT 2
    enabled: false
"""


def test_status_of_a_healthy_project(ordo_cli: Runner, tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "p", MANIFEST, env=f"DATABASE_URL=sqlite:///{tmp_path / 'shop.db'}\n"
    )
    ran = ordo_cli("run", "-y", "--select", "build", cwd=root)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    manifest = (root / "queue" / "manifest.yaml").read_bytes()

    done = ordo_cli("status", cwd=root)

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Pipeline 'shop' (")
    assert lines[0].endswith("3 steps, 1 done")
    build = next(line for line in lines if " build " in line)
    assert build.strip().startswith("✓ build")
    assert " done 20" in build
    assert " run " in build
    assert any(line.split() == ["·", "later", "sql", "pending"] for line in lines)
    assert any(line.split() == ["–", "parked", "sql", "disabled"] for line in lines)
    assert any(line.startswith("  default (sqlite): healthy") for line in lines)
    assert any(line.startswith("Last run: ") and " success, started " in line for line in lines)
    assert "  default: sales: 2 rows" in lines
    assert (root / "queue" / "manifest.yaml").read_bytes() == manifest  # nothing changed

    as_json = ordo_cli("status", "--json", cwd=root)
    found = json.loads(as_json.stdout)
    assert found["ok"] is True
    assert [s["state"] for s in found["steps"]] == ["done", "pending", "disabled"]
    assert found["tables"] == [
        {"connection": "default", "table": "sales", "rows": 2, "error": None}
    ]
    assert found["last_run"]["status"] == "success"


def test_status_when_the_database_does_not_answer(ordo_cli: Runner, tmp_path: Path) -> None:
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    root = make_project(tmp_path / "p", MANIFEST, env=f"DATABASE_URL={url}\nDB_TIMEOUT=2\n")

    done = ordo_cli("status", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "default (postgresql): unhealthy" in done.stdout
    assert "  default: sales: the connection does not answer" in done.stdout
    assert "Last run: none recorded" in done.stdout
    assert not (root / ".ordo").exists()  # looking leaves no run store behind


def test_status_names_a_duckdb_file_another_process_holds(ordo_cli: Runner, tmp_path: Path) -> None:
    database = tmp_path / "simulation.duckdb"
    root = make_project(tmp_path / "p", MANIFEST, env=f"DATABASE_URL=duckdb:///{database}\n")
    with duckdb_held(database) as pid:
        done = ordo_cli("status", cwd=root)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Locked: default: the file {database} is locked by another process: " in done.stdout
    assert f"(PID {pid})" in done.stdout
