"""SIGTERM in the middle of a run, then the steps enabled again: they run again (issue 9, 1).

The committed steps of a run stopped by SIGTERM are marked done; their ledger rows must go with
it. Whether the user then says ``ordo enable --all`` or copies the manifest they started from
back into place, the next run does those steps again, ``cleanup_target`` included, instead of
answering "already committed by run ... (found in the ledger)".
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
from pathlib import Path

import pytest

from ordo.manifest.journal import journal_path
from tests.support.cli import WITHOUT_ORDO, Runner, clean_env, spawn_ordo, wait_until
from tests.support.project import make_project

MANIFEST = """\
steps:
  - name: create
    sql: CREATE TABLE t (x INTEGER)
    cleanup_target: t
  - name: fill
    sql: INSERT INTO t VALUES (1)
  - name: wait
    type: python
    file: wait.py
"""


def project(tmp_path: Path) -> tuple[Path, Path]:
    started = tmp_path / "started"
    root = make_project(
        tmp_path / "p",
        MANIFEST,
        python={
            "wait.py": f"""\
                import pathlib, sqlite3, time
                started = pathlib.Path({str(started)!r})
                if not started.exists():  # the first run adds a row, then waits for its end
                    conn = sqlite3.connect("data/test.db", timeout=10)
                    conn.execute("INSERT INTO t VALUES (99)")
                    conn.commit()
                    conn.close()
                    started.write_text("yes")
                    time.sleep(60)
                """
        },
    )
    return root, started


def terminated_run(root: Path, started: Path) -> None:
    """``ordo run -y`` stopped with SIGTERM while its python step waits."""
    process = spawn_ordo("run", "-y", cwd=root, env=clean_env(drop=WITHOUT_ORDO))
    try:
        wait_until(started.exists, running=process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143, out + err
    assert (root / "queue" / "manifest.yaml").read_text().count("# Done:") == 2


def rows(root: Path) -> list[int]:
    with sqlite3.connect(root / "data" / "test.db") as conn:
        return [r[0] for r in conn.execute("SELECT x FROM t ORDER BY x")]


@pytest.mark.parametrize("how", ["enable --all", "copy the manifest back"])
def test_steps_enabled_again_after_sigterm_run_again(
    how: str, tmp_path: Path, ordo_cli: Runner
) -> None:
    root, started = project(tmp_path)
    manifest = root / "queue" / "manifest.yaml"
    original = tmp_path / "manifest.orig.yaml"
    shutil.copy(manifest, original)
    terminated_run(root, started)
    assert rows(root) == [1, 99]

    if how == "enable --all":
        enabled = ordo_cli("enable", "--all", cwd=root)
        assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    else:
        shutil.copy(original, manifest)
    again = ordo_cli("run", "-y", cwd=root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already committed" not in again.stdout + again.stderr
    assert rows(root) == [1]  # 'create' ran again: its cleanup_target dropped the old table
    assert manifest.read_text().count("# Done:") == 3
    assert not journal_path(manifest).exists()  # its rows are gone, so is what answered for them
