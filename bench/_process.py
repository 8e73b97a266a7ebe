"""Shared helpers of the whole-process benchmarks: projects, the reference loop, timing.

The figures that count are the ones a user sees: ``ordo`` started as a command, its output
going to a pipe, next to a reference started the same way (a fresh interpreter), in the same
run, so that a busy machine slows both.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The reference: the same statements through SQLAlchemy, one transaction each, in a fresh
# interpreter started like ``ordo`` (imports and the connection included, as ordo's are).
BARE_LOOP = """
import sys
from sqlalchemy import create_engine
engine = create_engine(sys.argv[1])
with engine.connect() as conn:
    for i in range(int(sys.argv[2])):
        with conn.begin():
            conn.exec_driver_sql("SELECT 1").fetchall()
        sys.stdout.write(f"step {i} done\\n")
engine.dispose()
"""


def ordo_command() -> str:
    """The installed ``ordo`` entry point next to this interpreter (as ``uv run`` puts it)."""
    found = Path(sys.executable).parent / "ordo"
    return str(found) if found.exists() else shutil.which("ordo") or "ordo"


def write_project(root: Path, steps: int, url: str, *, ledger: bool = True) -> None:
    for folder in ("config", "queue", "scripts/sql", "scripts/python", "logs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "config" / ".env").write_text(f"DATABASE_URL={url}\n")
    lines = ["name: bench", f"ledger: {str(ledger).lower()}", "steps:"]
    for i in range(steps):
        lines += [f"  - name: step {i}", "    sql: SELECT 1", "    enabled: true"]
    (root / "queue" / "manifest.yaml").write_text("\n".join(lines) + "\n")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A schema of its own for one benchmark, dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


# A user's install has its bytecode compiled (pip and ``uv sync`` write it on first import);
# with PYTHONDONTWRITEBYTECODE set, every start would compile ordo and SQLAlchemy from source
# again (over a second), which is not what users meet. The first, dropped round writes it.
# PYTHONUNBUFFERED would make a reference script write each line on its own, which no user's
# ``python job.py | tee`` does by default.
CHILD_ENV_DROPPED = ("FORCE_COLOR", "TTY_COMPATIBLE", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")


def timed(
    argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> float:
    """Wall time of one process, its output read from a pipe as a user's ``| tee`` would;
    ``env`` adds to the environment."""
    env = {k: v for k, v in os.environ.items() if k not in CHILD_ENV_DROPPED} | (env or {})
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}")
    return elapsed


def spread(samples: Sequence[float]) -> str:
    """Median and range, in the unit given, so that a noisy machine shows as such."""
    return f"{statistics.median(samples):7.3f} [{min(samples):.3f}-{max(samples):.3f}]"
