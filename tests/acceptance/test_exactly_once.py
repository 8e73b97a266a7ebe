"""Repeated kill -9 at random moments, then a run to the end: every SQL step's effect exactly once.

Issue 4, point 8, on SQLite, DuckDB, PostgreSQL and MariaDB. Each step inserts its own number;
a step done twice would leave its number twice. Python steps that sleep spread the run out so
the kills land in the middle of it.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import yaml
from sqlalchemy import URL, create_engine

from tests.support.cli import ordo_command, run_in_process
from tests.support.project import database_env, make_project

SQL_STEPS = 48


def manifest() -> str:
    lines = ["name: exactly-once", "steps:"]
    for n in range(1, SQL_STEPS + 1):
        lines += [f"  - name: s{n}", f"    sql: INSERT INTO effects VALUES ({n})"]
        if n % 12 in (4, 5, 6):  # some transaction groups of three
            lines.append(f"    transaction_group: g{n // 12}")
        if n % 12 in (0, 3, 9):  # never inside a group
            lines += [f"  - name: pause{n}", "    file: pause.py"]
    return "\n".join(lines) + "\n"


def test_repeated_kill_9_applies_every_step_exactly_once(db_url: URL, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE effects (n INT)")
    engine.dispose()
    root = make_project(
        tmp_path / "p",
        manifest(),
        python={"pause.py": "import time\ntime.sleep(0.2)\n"},
        env=database_env(db_url),
    )
    rng = random.Random(f"{db_url.get_backend_name()}-exactly-once")
    kills = 0
    for _ in range(8):
        process = subprocess.Popen(
            ordo_command("run", "-y"), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.4, 1.6))
        if process.poll() is not None:
            _, err = process.communicate()
            assert process.returncode == 0, err.decode()
            break
        process.send_signal(signal.SIGKILL)
        process.communicate()  # reaps it and closes its pipe
        kills += 1
        text = (root / "queue" / "manifest.yaml").read_text()
        assert isinstance(yaml.safe_load(text)["steps"], list)  # never a broken manifest
    final = run_in_process("run", "-y", cwd=root)  # the last run needs no process of its own
    assert final.returncode == 0, final.stdout + final.stderr
    assert kills >= 2, "the kills should land while a run was going"

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT n, COUNT(*) FROM effects GROUP BY n").all()
    finally:
        engine.dispose()
    assert {int(n): int(c) for n, c in rows} == {n: 1 for n in range(1, SQL_STEPS + 1)}
    steps = yaml.safe_load((root / "queue" / "manifest.yaml").read_text())["steps"]
    assert all(step["enabled"] is False for step in steps)
