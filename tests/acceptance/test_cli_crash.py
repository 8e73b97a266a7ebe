"""``kill -9`` in the middle of a run: the manifest stays valid and a second run completes it.

A 40-step manifest on SQLite (every step writes its own row; every few steps a python step
that sleeps a little, so the run lasts a while) is started with ``ordo run -y`` and killed with
SIGKILL at different moments: before it has written anything, while it works, near the end.
After each kill the manifest must parse, every ``enabled`` must be a boolean, and no step may
be marked done whose row is not committed. A second run must then be accepted (no lock left
behind), exit 0 and finish the work.
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import WITHOUT_ORDO, Runner, clean_env, ordo_command, spawn_ordo, wait_until
from tests.support.processes import alive
from tests.support.project import make_project

STEPS = 40
PYTHON_EVERY = 4

SLEEPER = """\
    import json, os, sqlite3, time
    time.sleep(0.05)
    n = json.loads(os.environ["ORDO_PARAMS"])["n"]
    conn = sqlite3.connect("data/test.db", timeout=10)
    conn.execute("INSERT OR REPLACE INTO log VALUES (?)", (n,))
    conn.commit()
    conn.close()
    """


def manifest_text() -> str:
    lines = ["# kill -9 test: comments and layout must survive", "name: crash", "", "steps:"]
    for n in range(1, STEPS + 1):
        lines.append(f"  - name: step {n:02d}")
        if n % PYTHON_EVERY == 0:
            lines += ["    type: python", "    file: sleeper.py", f"    params: {{n: {n}}}"]
        elif n == 1:
            lines += [
                '    sql: "CREATE TABLE IF NOT EXISTS log (n INTEGER PRIMARY KEY)"',
                "    transaction_group: first",
                "  - name: step 01 row",
                "    sql: INSERT OR REPLACE INTO log VALUES (1)",
                "    transaction_group: first",
            ]
            continue
        else:
            lines.append(f"    sql: INSERT OR REPLACE INTO log VALUES ({n})")
        if n % 3 == 0:
            lines.append("    enabled: true  # an explicit flag on some steps")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(
        tmp_path_factory.mktemp("crash") / "template",
        manifest_text(),
        python={"sleeper.py": SLEEPER},
    )


def fresh_copy(template: Path, where: Path) -> Path:
    shutil.copytree(template, where)
    return where


def env() -> dict[str, str]:
    return clean_env(drop=WITHOUT_ORDO)


def committed_rows(root: Path) -> set[int]:
    db = root / "data" / "test.db"
    if not db.exists():
        return set()
    with sqlite3.connect(db, timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'log'").fetchall():
            return set()  # killed before the first group committed
        return {row[0] for row in conn.execute("SELECT n FROM log")}


def step_number(name: str) -> int:
    return int(name.split()[1])


def check_manifest(root: Path) -> list[dict[str, Any]]:
    """The manifest parses, every enabled is a bool, every done step's row is committed."""
    text = (root / "queue" / "manifest.yaml").read_text(encoding="utf-8")
    assert text.startswith("# kill -9 test: comments and layout must survive\n")
    steps: list[dict[str, Any]] = yaml.safe_load(text)["steps"]
    assert len(steps) == STEPS + 1
    rows = committed_rows(root)
    for step in steps:
        enabled = step.get("enabled", True)
        assert isinstance(enabled, bool), step
        if not enabled:
            assert step_number(step["name"]) in rows, f"{step['name']} marked done, not committed"
    return steps


def done_marks(root: Path) -> int:
    try:
        return (root / "queue" / "manifest.yaml").read_text(encoding="utf-8").count("# Done:")
    except FileNotFoundError:  # never: the file is replaced by rename, not removed
        return -1


def kill_when(
    root: Path, *, delay: float | None = None, marks: int | None = None, then: float = 0.0
) -> int:
    """Start ``ordo run -y``; SIGKILL it after ``delay`` s, or ``then`` s after ``marks`` steps
    are marked done in the manifest.

    Returns how many steps were marked done when it was killed (-1: it had already ended).
    """
    process = subprocess.Popen(
        ordo_command("run", "-y"),
        cwd=root,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        if delay is not None:
            time.sleep(delay)
        else:
            assert marks is not None
            while done_marks(root) < marks and process.poll() is None:
                assert time.monotonic() < deadline, "the run made no progress"
                time.sleep(0.002)
            time.sleep(then)
        ended = process.poll() is not None
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    return -1 if ended else done_marks(root)


def test_kill_9_mid_run_leaves_a_manifest_a_second_run_completes(
    template: Path, tmp_path: Path, ordo_cli: Runner
) -> None:
    rng = random.Random(20240301)
    # by time: before anything is written, during start-up, somewhere random
    moments: list[dict[str, Any]] = [
        {"delay": 0.0},
        {"delay": 0.15},
        {"delay": rng.uniform(0.8, 1.8)},
    ]
    # by progress (the run's own pace decides when): early, middle, near the end, each a
    # random few milliseconds after the mark, so some land inside a step or a manifest write
    moments += [
        {"marks": m, "then": rng.uniform(0, 0.03)}
        for m in (1, rng.randint(5, 20), rng.randint(21, 35), STEPS - 1)
    ]
    moments.append({"marks": STEPS})

    killed_mid_run = 0
    for number, moment in enumerate(moments):
        root = fresh_copy(template, tmp_path / f"run{number}")
        marked = kill_when(root, **moment)
        if 0 < marked < STEPS + 1:
            killed_mid_run += 1
        check_manifest(root)

        again = ordo_cli("run", "-y", cwd=root)
        assert again.returncode != 4, f"{moment}: the killed run left its lock behind"
        assert again.returncode == 0, f"{moment}: {again.stdout}\n{again.stderr}"
        steps = check_manifest(root)
        assert all(step["enabled"] is False for step in steps), moment
        assert committed_rows(root) == set(range(1, STEPS + 1)), moment
        assert not list((root / "queue").glob(".manifest.yaml.ordo-tmp-*"))  # swept up

    assert killed_mid_run >= 3, "the kills did not land in the middle of runs"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_stops_the_run_and_its_script_and_keeps_committed_marks(
    tmp_path: Path, ordo_cli: Runner
) -> None:
    pid_file = tmp_path / "script.pid"
    root = make_project(
        tmp_path / "p",
        """\
        steps:
          - name: first
            sql: CREATE TABLE t (x INTEGER)
          - name: long script
            type: python
            file: long.py
          - name: last
            sql: INSERT INTO t VALUES (1)
        """,
        python={
            "long.py": f"""\
                import os, pathlib, time
                pid_file = pathlib.Path({str(pid_file)!r})
                if not pid_file.exists():  # the first run waits; the second goes on
                    pid_file.write_text(str(os.getpid()))
                    time.sleep(30)
                """
        },
    )
    process = spawn_ordo("run", "-y", cwd=root, env=env())
    try:
        wait_until(lambda: pid_file.exists() and pid_file.read_text(), running=process)
        script = int(pid_file.read_text())
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143, out + err
    assert "terminated" in err
    deadline = time.monotonic() + 5
    while alive(script) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(script), "the python step outlived the ordo run it belonged to"
    text = (root / "queue" / "manifest.yaml").read_text()
    assert text.count("# Done:") == 1  # 'first' committed before the signal: it is marked
    again = ordo_cli("run", "-y", cwd=root)  # not refused: no lock left behind
    assert again.returncode == 0, again.stdout + again.stderr
