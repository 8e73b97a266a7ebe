"""Parallel units against the ideal (issue 4, point 16).

200 independent steps (``depends_on: []``), each ``SELECT pg_sleep(0.05)`` on PostgreSQL, run by
``ordo.run`` with ``max_parallel: 8`` and manifest state on (each step is marked done in the
file as it commits) and a log file. The ideal is 200 x 0.05 s / 8 = 1.25 s: the time the sleeps
take when eight run at every moment and nothing else costs anything. Prints the wall time of
the run (from the call to ``ordo.run`` to its return), the ideal and the ratio. Goal: within
1.3x of the ideal.

The connection's pool is sized to ``max_parallel`` (``POOL_SIZE=8``), so that eight units can
run on it at once (ordo bounds the units on a connection by its pool).

    uv run python bench/parallel.py [--steps 200] [--sleep 0.05] [--parallel 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import ordo
from _process import postgres_schema


def write_project(root: Path, url: str, steps: int, sleep: float, parallel: int) -> None:
    for folder in ("config", "queue", "scripts/sql", "scripts/python", "logs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "config" / ".env").write_text(
        f"DATABASE_URL={url}\n"
        f"DEVELOPMENT_GLOBAL_DEFAULT_POOL_SIZE={parallel}\n"
        "DEVELOPMENT_GLOBAL_DEFAULT_MAX_OVERFLOW=0\n"
    )
    lines = ["name: parallel bench", f"max_parallel: {parallel}", "steps:"]
    for i in range(steps):
        lines += [
            f"  - name: sleep {i:03d}",
            f"    sql: SELECT pg_sleep({sleep})",
            "    depends_on: []",
            "    enabled: true",
        ]
    (root / "queue" / "manifest.yaml").write_text("\n".join(lines) + "\n")


def time_run(root: Path, steps: int) -> float:
    manifest = root / "queue" / "manifest.yaml"
    pristine = manifest.read_bytes()
    started = time.perf_counter()
    result = ordo.run(project=root, environ={}, options=ordo.RunOptions(notify=False))
    elapsed = time.perf_counter() - started
    assert result.status == "success", result.error
    assert manifest.read_text().count("# Done: ") == steps
    manifest.write_bytes(pristine)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=0.05)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ideal = args.steps * args.sleep / args.parallel
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        with postgres_schema() as url:
            root = tmp / "project"
            write_project(root, url, args.steps, args.sleep, args.parallel)
            time_run(root, args.steps)  # warm up imports once
            runs = [time_run(root, args.steps) for _ in range(args.repeat)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    took = statistics.median(runs)
    ratio = took / ideal
    shown = ", ".join(f"{r:.3f}" for r in runs)
    print(
        f"postgresql  {args.steps} x pg_sleep({args.sleep:g}), max_parallel {args.parallel}: "
        f"{took:.3f}s (median of {shown})  ideal {ideal:.3f}s  ratio {ratio:.2f}x  "
        f"goal <=1.3x: {'met' if ratio <= 1.3 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
