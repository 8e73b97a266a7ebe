"""``ordo runs show`` prints what each step's kind reported (its details), as text and JSON."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from ordo.config import Settings
from ordo.masking import Masker
from ordo.store import open_store
from ordo.store.testing import RunScript
from ordo.subscribers.store import StoreRecorder

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the ordo_cli fixture

MANIFEST = "name: seeds\nsteps:\n  - name: load\n    sql: SELECT 1\n"
SECRET = "Pa55-Details"
DETAILS = {"files": {"customers.csv": 120, "orders.csv": 7}, "note": f"used {SECRET}"}


def recorded_run(root: Path) -> str:
    """A run whose 'load' step reported details, recorded by the real recorder."""
    (root / "queue").mkdir(parents=True)
    (root / "queue" / "manifest.yaml").write_text(MANIFEST)
    script = RunScript(["load", "plain"], pipeline="seeds")
    script.unit_succeeds("load", rows=127, details=DETAILS).unit_succeeds("plain").finish()
    store = open_store(Settings(values={}, root=root), root)
    try:
        recorder = StoreRecorder(
            store,
            job_name="seeds",
            manifest_path=root / "queue" / "manifest.yaml",
            manifest_text=MANIFEST,
            masker=Masker([SECRET]),
        )
        for event in script.take():
            recorder.handle(event)
    finally:
        store.close()
    return script.run_id


def test_runs_show_prints_the_details_of_each_step(tmp_path: Path, ordo_cli: Runner) -> None:
    root = tmp_path / "project"
    run_id = recorded_run(root)
    done = ordo_cli("runs", "show", run_id[:8], cwd=root)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index("details")
    assert lines[start + 1 :] == [
        '  load: {"files": {"customers.csv": 120, "orders.csv": 7}, "note": "used ***"}'
    ]
    assert SECRET not in done.stdout


def test_runs_show_json_has_the_details(tmp_path: Path, ordo_cli: Runner) -> None:
    root = tmp_path / "project"
    run_id = recorded_run(root)
    done = ordo_cli("runs", "show", run_id, "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    tasks = {task["step"]: task for task in json.loads(done.stdout)["tasks"]}
    assert tasks["load"]["details"] == {**DETAILS, "note": "used ***"}
    assert tasks["plain"]["details"] == {}
