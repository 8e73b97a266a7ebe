"""Per-step overhead of ordo against a bare SQLAlchemy loop (issue 2, point 29).

A 1,000-step manifest of ``SELECT 1`` steps is run by ``ordo.run`` with manifest state on
(every step is marked done in the file, atomically, as it commits) and a log file, then again
with the run state store (``.ordo/state.db``) and the ledger on (issue 4), and the same
1,000 statements are run by a bare SQLAlchemy loop committing each one. Both run in this
process on the same database, on SQLite and on PostgreSQL. Prints the overhead per step in
milliseconds and the ratio. Goals: under 1 ms of overhead per step (issue 2), under 2 ms with the
store and the ledger on (issue 4).

    uv run python bench/step_overhead.py [--steps 1000] [--repeat 3] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

import ordo

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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


def time_bare(url: str, steps: int) -> float:
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")  # connect outside the timing, as ordo's engine does
        conn.commit()
        started = time.perf_counter()
        for _ in range(steps):
            with conn.begin():
                conn.exec_driver_sql("SELECT 1").fetchall()
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def time_ordo(root: Path, steps: int, *, store: bool) -> float:
    """Issue 2's setting (manifest state only) or issue 4's (plus the run store and ledger)."""
    manifest = root / "queue" / "manifest.yaml"
    write_project(root, steps, (root / "config" / ".env").read_text()[13:].strip(), ledger=store)
    pristine = manifest.read_bytes()
    started = time.perf_counter()
    result = ordo.run(
        project=root, environ={}, options=ordo.RunOptions(notify=False, record_run=store)
    )
    elapsed = time.perf_counter() - started
    assert result.status == "success", result.error
    assert manifest.read_text().count("# Done: ") == steps
    manifest.write_bytes(pristine)
    return elapsed


def measure(name: str, url_factory: Callable[[Path], str], steps: int, repeat: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        url = url_factory(tmp)
        write_project(tmp / "project", steps, url)
        time_ordo(tmp / "project", steps, store=True)  # warm up imports and caches once
        bare = statistics.median(time_bare(url, steps) for _ in range(repeat))
        runs = {
            store: statistics.median(
                time_ordo(tmp / "project", steps, store=store) for _ in range(repeat)
            )
            for store in (False, True)
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for store, goal in ((False, 1.0), (True, 2.0)):
        o = runs[store]
        overhead_ms = (o - bare) / steps * 1000
        what = "+store+ledger" if store else "manifest     "
        print(
            f"{name:<11} {what} {steps} steps  bare {bare:6.3f}s  ordo {o:6.3f}s  "
            f"overhead {overhead_ms:6.3f} ms/step  ratio {o / bare:5.1f}x  "
            f"goal <{goal:g} ms/step: {'met' if overhead_ms < goal else 'NOT met'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        measure("sqlite", lambda tmp: f"sqlite:///{tmp}/bench.db", args.steps, args.repeat)
    if args.only in (None, "postgresql"):
        with postgres_schema() as url:
            measure("postgresql", lambda _tmp: url, args.steps, args.repeat)


if __name__ == "__main__":
    main()
