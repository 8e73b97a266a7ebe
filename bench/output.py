"""An output file of 1 million rows: ``ordo run`` against ``psql \\copy``, side by side.

Issue 9, item 8. One step writes a query of ``--rows`` rows (an integer, a text, an exact
numeric and a timestamp per row) to a CSV ``output_file``; the ``ordo`` command runs it as a
whole process (start-up, planning, run store, ledger and manifest marks included), output to
a pipe. The same query goes through ``psql -c "\\copy (...) to 'file' csv header"`` in the
same rounds, alternating, so a busy machine slows both. Prints both times (median
[min-max]), the ratio (goal: within 2x) and the peak RSS of the ordo processes (goal: under
100 MB), read from ``resource.getrusage(RUSAGE_CHILDREN)`` in a wrapper process per run.

    uv run python bench/output.py [--rows 1000000] [--repeat 3] [--format csv|json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _process import ordo_command, postgres_schema, spread, timed, write_project

GOAL_RATIO, GOAL_MB = 2.0, 100.0

QUERY = (
    "SELECT g AS id, 'customer ' || g AS name, (g % 1000) * 1.25::numeric(10, 2) AS amount, "
    "timestamp '2024-01-01' + g * interval '1 second' AS sold_at "
    "FROM generate_series(1, {rows}) g"
)

# Runs one command and prints the peak RSS of its process tree (the children of this one).
PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
sys.stderr.write(done.stderr.decode()[-2000:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
sys.exit(done.returncode)
"""


def project(root: Path, url: str, rows: int, fmt: str) -> Path:
    write_project(root, 0, url)
    manifest = root / "queue" / "manifest.yaml"
    step = {"name": "report", "sql": QUERY.format(rows=rows), "output_file": f"out.{fmt}"}
    manifest.write_text(f"name: bench\nsteps:\n  - {json.dumps(step)}\n", encoding="utf-8")
    return manifest


def peak_mb(argv: list[str]) -> float:
    done = subprocess.run([sys.executable, "-c", PEAK, *argv], capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed:\n{done.stderr.decode()}")
    return float(done.stdout.decode().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", choices=["csv", "json"], default="csv")
    args = parser.parse_args()
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("psql is not installed (apt-get install postgresql-client)")
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        with postgres_schema() as url:
            root = tmp / "project"
            manifest = project(root, url, args.rows, args.format)
            pristine = manifest.read_bytes()
            out = root / f"out.{args.format}"
            ordo_argv = [ordo_command(), "run", "--force", "--project", str(root)]
            copy = f"\\copy ({QUERY.format(rows=args.rows)}) to '{tmp / 'psql.csv'}' csv header"
            psql_argv = [psql, "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", copy]
            ordo_s: list[float] = []
            psql_s: list[float] = []
            for _ in range(args.repeat + 1):  # the first round warms caches and is dropped
                psql_s.append(timed(psql_argv))
                ordo_s.append(timed(ordo_argv))
                manifest.write_bytes(pristine)
                lines = sum(1 for _ in out.open("rb"))
                expected = args.rows + (1 if args.format == "csv" else 2)
                assert lines == expected, f"{lines} lines in {out.name}, {expected} expected"
            peak = peak_mb(ordo_argv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ordo_s, psql_s = ordo_s[1:], psql_s[1:]
    ratio = statistics.median(ordo_s) / statistics.median(psql_s)
    print(
        f"postgresql {args.rows} rows to {args.format}, whole process: "
        f"psql \\copy {spread(psql_s)} s  ordo run {spread(ordo_s)} s  ratio {ratio:4.2f}x "
        f"(goal <{GOAL_RATIO:g}x: {'met' if ratio < GOAL_RATIO else 'NOT met'})  "
        f"ordo peak RSS {peak:6.1f} MB (goal <{GOAL_MB:g} MB: "
        f"{'met' if peak < GOAL_MB else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
