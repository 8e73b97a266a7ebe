"""A run killed with ``kill -9`` is ``crashed``, not ``running`` forever (issue 9, item 5).

The killed run is in the store from before its first step starts; the next run of the manifest
(which holds the lock, so no other run of it goes on) sees the killed run's process gone, marks
the run ``crashed``, and ``ordo run --resume`` takes it up.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

from tests.support.cli import WITHOUT_ORDO, Runner, clean_env, spawn_ordo, wait_until
from tests.support.processes import alive
from tests.support.project import make_project

MANIFEST = """\
name: k9
steps:
  - name: first
    type: python
    file: wait.py
  - name: create
    sql: CREATE TABLE t (x INTEGER)
  - name: fill
    sql: INSERT INTO t VALUES (1)
"""


def project(tmp_path: Path) -> tuple[Path, Path]:
    pid_file = tmp_path / "script.pid"
    root = make_project(
        tmp_path / "p",
        MANIFEST,
        python={
            "wait.py": f"""\
                import os, pathlib, time
                pid_file = pathlib.Path({str(pid_file)!r})
                if not pid_file.exists():  # the first run waits to be killed; later ones go on
                    pid_file.write_text(str(os.getpid()))
                    time.sleep(60)
                """
        },
    )
    return root, pid_file


def killed_in_first_step(root: Path, pid_file: Path) -> int:
    """``ordo run -y`` killed with SIGKILL while its first step runs; returns its pid."""
    process = spawn_ordo("run", "-y", cwd=root, env=clean_env(drop=WITHOUT_ORDO))
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), running=process)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    script = int(pid_file.read_text())
    if alive(script):  # the script's own process outlives a kill -9 of its parent
        os.kill(script, signal.SIGKILL)
    return process.pid


def runs(ordo_cli: Runner, root: Path) -> list[dict[str, Any]]:
    listed = ordo_cli("runs", "--json", cwd=root)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    found: list[dict[str, Any]] = json.loads(listed.stdout)
    return found


def test_a_run_killed_in_its_first_step_is_recorded_then_resumed_as_crashed(
    tmp_path: Path, ordo_cli: Runner
) -> None:
    root, pid_file = project(tmp_path)
    pid = killed_in_first_step(root, pid_file)
    [killed] = runs(ordo_cli, root)  # a trace, though it died in its first step
    assert killed["status"] == "running"
    assert killed["process"]["pid"] == pid

    resumed = ordo_cli("run", "-y", "--resume", cwd=root)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "crashed" in resumed.stderr
    newest, before = runs(ordo_cli, root)
    assert before["id"] == killed["id"]
    assert before["status"] == "crashed"
    assert before["completed_at"] is not None
    assert newest["resumed_from"] == killed["id"]
    assert newest["status"] == "success"
    assert newest["steps"]["completed"] == 3
    with sqlite3.connect(root / "data" / "test.db") as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]

    shown = ordo_cli("runs", "show", killed["id"][:8], cwd=root)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "crashed" in shown.stdout
    assert f"pid {pid}" in shown.stdout
    detail = json.loads(ordo_cli("runs", "show", killed["id"], "--json", cwd=root).stdout)
    for task in detail["tasks"]:  # the step's start may not have been written: SKIPPED then
        assert task["status"] in ("FAILED", "SKIPPED")
        assert "the run ended crashed" in task["error"]


def test_the_next_plain_run_marks_a_killed_run_crashed(tmp_path: Path, ordo_cli: Runner) -> None:
    root, pid_file = project(tmp_path)
    killed_in_first_step(root, pid_file)
    again = ordo_cli("run", "-y", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    newest, killed = runs(ordo_cli, root)
    assert (newest["status"], killed["status"]) == ("success", "crashed")
    assert "process" in killed["error"]
