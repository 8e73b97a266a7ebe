"""A DuckDB file that another process holds: one clear line, exit 1, nothing half done.

DuckDB lets one process at a time open a file for writing; an IDE or a notebook left open on
the file is the usual holder. ``ordo run`` must fail before its step runs, saying which file
and which process (DuckDB's message carries its PID) and what to do, without a traceback or
the DuckDB bindings' exit-time noise.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import Runner
from tests.support.duckdb_lock import duckdb_held
from tests.support.project import make_project


def test_a_locked_duckdb_file_names_the_file_and_the_process(
    ordo_process: Runner, tmp_path: Path
) -> None:
    """A real process: what reaches the terminal at exit is part of what is checked."""
    database = tmp_path / "simulation.duckdb"
    root = make_project(
        tmp_path / "p",
        "name: lock\nsteps:\n  - name: make\n    sql: CREATE TABLE t AS SELECT 1 AS x\n",
        env=f"DATABASE_URL=duckdb:///{database}\n",
    )
    manifest = (root / "queue" / "manifest.yaml").read_bytes()
    with duckdb_held(database) as pid:
        done = ordo_process("run", "-y", cwd=root)

    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert f"the file {database} is locked by another process: " in said
    assert f"(PID {pid})" in said
    assert "close that program's connection to it" in said
    assert "Traceback" not in said
    assert "nanobind" not in said  # the bindings' complaints at exit stay out of sight
    assert (root / "queue" / "manifest.yaml").read_bytes() == manifest  # nothing marked done
    again = ordo_process("run", "-y", cwd=root)  # the holder is gone: the same run now works
    assert again.returncode == 0, again.stdout + again.stderr
