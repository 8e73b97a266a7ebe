"""A PostgreSQL to DuckDB copy of 2 million rows: ``ordo run`` against the bare reference.

Issue 11, item 15. One ``load`` step (``source: {type: sql, connection: pg, ...}``,
``target: {type: table, ...}`` on a DuckDB file) runs as a whole ``ordo`` process (start-up,
planning, run store, ledger and manifest marks included), output to a pipe. The reference is
a fresh ``python`` process doing what a user would write by hand: adbc-driver-postgresql
fetching Arrow batches, DuckDB inserting straight from them in one transaction. Both run in
the same rounds, alternating, so a busy machine slows both. Prints both times (median
[min-max]), the ratio (goal: within 1.5x) and the peak RSS of each, read from
``resource.getrusage(RUSAGE_CHILDREN)`` in a wrapper process per run.

    uv run python bench/load.py [--rows 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from _process import ordo_command, postgres_schema, spread, timed, write_project
from output import peak_mb  # the same wrapper process reads the peak RSS

GOAL_RATIO = 1.5

SOURCE = (
    "CREATE TABLE src AS SELECT g AS id, 'customer ' || g AS name, "
    "((g % 1000) * 1.25)::numeric(10,2) AS amount, "
    "timestamp '2024-01-01' + g * interval '1 second' AS sold_at "
    "FROM generate_series(1, {rows}) g"
)

# The bare reference, in its own interpreter as ``ordo`` is.
REFERENCE = """
import sys
import adbc_driver_postgresql.dbapi as adbc
import duckdb
pg, path = sys.argv[1], sys.argv[2]
duck = duckdb.connect(path)
duck.execute("BEGIN")
with adbc.connect(pg) as conn, conn.cursor() as cursor:
    cursor.execute("SELECT * FROM src")
    reader = cursor.fetch_record_batch()
    duck.execute("CREATE OR REPLACE TABLE sales AS SELECT * FROM reader")
duck.execute("COMMIT")
print(duck.execute("SELECT count(*) FROM sales").fetchone()[0])
duck.close()
"""

MANIFEST = """\
name: bench
steps:
  - name: copy
    type: load
    source: {type: sql, connection: pg, query: SELECT * FROM src}
    target: {type: table, table: sales}
"""


def libpq_uri(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (ADBC's driver is libpq's)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    try:
        with postgres_schema() as url:
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text(SOURCE.format(rows=args.rows)))
            engine.dispose()
            root = tmp / "project"
            target = tmp / "ordo.duckdb"
            write_project(root, 0, f"duckdb:///{target}")
            env = root / "config" / ".env"
            env.write_text(env.read_text() + f"DEVELOPMENT_GLOBAL_PG_CONNECTION_STRING={url}\n")
            manifest = root / "queue" / "manifest.yaml"
            manifest.write_text(MANIFEST)
            ordo_argv = [ordo_command(), "run", "--force", "--project", str(root)]
            bare = tmp / "bare.duckdb"
            bare_argv = [sys.executable, "-c", REFERENCE, libpq_uri(url), str(bare)]
            ordo_s: list[float] = []
            bare_s: list[float] = []

            def fresh() -> None:
                manifest.write_text(MANIFEST)
                for path in (target, bare):
                    path.unlink(missing_ok=True)
                    Path(f"{path}.wal").unlink(missing_ok=True)

            for _ in range(args.repeat + 1):  # the first round warms caches and is dropped
                fresh()
                bare_s.append(timed(bare_argv))
                ordo_s.append(timed(ordo_argv))
                check = create_engine(f"duckdb:///{target}")
                with check.connect() as conn:
                    count = conn.execute(text("SELECT count(*) FROM sales")).scalar()
                check.dispose()
                assert count == args.rows, f"{count} rows copied, {args.rows} expected"
            fresh()
            bare_peak = peak_mb(bare_argv)
            fresh()
            ordo_peak = peak_mb(ordo_argv)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ordo_s, bare_s = ordo_s[1:], bare_s[1:]
    ratio = statistics.median(ordo_s) / statistics.median(bare_s)
    print(
        f"postgresql to duckdb, {args.rows} rows, whole process: "
        f"adbc+duckdb {spread(bare_s)} s  ordo run {spread(ordo_s)} s  ratio {ratio:4.2f}x "
        f"(goal <{GOAL_RATIO:g}x: {'met' if ratio < GOAL_RATIO else 'NOT met'})  "
        f"peak RSS: reference {bare_peak:6.1f} MB, ordo {ordo_peak:6.1f} MB"
    )


if __name__ == "__main__":
    main()
