"""A 2-million-row load streams: the ``ordo run`` process's peak memory stays under 300 MB.

Run as a real process (its peak RSS read by a wrapper, as ``bench/output.py`` does), so the
figure is the whole process's: interpreter, imports, driver buffers and Arrow's pool.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text

from tests.support.cli import clean_env, ordo_command
from tests.support.project import make_project

ROWS = 2_000_000
LIMIT_MB = 300

PEAK = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
sys.exit(done.returncode)
"""


def peak_mb(root: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *ordo_command("run", "-y")],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


@pytest.mark.postgres
def test_two_million_rows_from_postgresql_to_duckdb(
    tmp_path: Path, postgres_url: URL, duckdb_url: URL
) -> None:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE src AS SELECT g AS id, 'customer ' || g AS name, "
                "((g % 1000) * 1.25)::numeric(10,2) AS amount, "
                "timestamp '2024-01-01' + g * interval '1 second' AS sold_at "
                f"FROM generate_series(1, {ROWS}) g"
            )
        )
    engine.dispose()
    source = postgres_url.render_as_string(hide_password=False)
    env = f"DATABASE_URL={duckdb_url}\nDEVELOPMENT_GLOBAL_PG_CONNECTION_STRING={source}\n"
    manifest = """\
        steps:
          - name: copy
            type: load
            source: {type: sql, connection: pg, query: SELECT * FROM src}
            target: {type: table, table: sales}
        """
    root = make_project(tmp_path / "p", manifest, env=env)
    peak = peak_mb(root)
    check = create_engine(duckdb_url)
    with check.connect() as conn:
        count, total = conn.execute(text("SELECT COUNT(*), SUM(amount) FROM sales")).one()
    check.dispose()
    assert count == ROWS
    assert total is not None
    print(f"peak RSS {peak:.0f} MB")
    assert peak < LIMIT_MB, f"peak RSS {peak:.0f} MB"


def test_two_million_rows_from_a_generated_csv_to_sqlite(tmp_path: Path) -> None:
    manifest = """\
        steps:
          - name: copy
            type: load
            source: {type: csv, path: big.csv, column_types: {id: int, amount: 'decimal(10,2)'}}
            target: {type: table, table: sales}
        """
    root = make_project(tmp_path / "p", manifest)
    with (root / "big.csv").open("w") as out:
        out.write("id,code,amount\n")
        out.writelines(f"{i},{i:08d},{i % 1000}.25\n" for i in range(ROWS))
    peak = peak_mb(root)
    import sqlite3

    with sqlite3.connect(root / "data" / "test.db") as conn:
        count, code = conn.execute("SELECT COUNT(*), MIN(code) FROM sales").fetchone()
    assert (count, code) == (ROWS, "00000000")
    print(f"peak RSS {peak:.0f} MB")
    assert peak < LIMIT_MB, f"peak RSS {peak:.0f} MB"
