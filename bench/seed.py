"""A CSV seed of 200,000 rows by 10 columns: ``ordo run`` against the databases' own loaders.

Issue 11, item 15. One ``type: seed`` step loads a CSV of ``--rows`` rows of mixed types
(integers, exact decimals, booleans, dates, timestamps with and without a zone, text with
leading zeros, quoted text with commas); the ``ordo`` command runs it as a whole process
(start-up, reading, checking and typing the file, run store, ledger, manifest marks), and
each reference runs as a fresh process too, in the same rounds, alternating:

- PostgreSQL: ``psql -c 'TRUNCATE' -c '\\copy t FROM file csv header'`` into a table of the
  same types (ordo replaces: TRUNCATE and COPY in one transaction);
- DuckDB: ``python -c`` that opens the file database and runs ``CREATE OR REPLACE TABLE ... AS
  SELECT * FROM read_csv(...)``;
- ``dbt seed`` (dbt-core < 1.12 with dbt-postgres and dbt-duckdb) in a virtualenv of its own
  under ``~/.cache/ordo-bench/dbt``, made when missing; one round (it is slow), or skipped
  with the reason when it cannot be installed.

Prints medians [min-max] and the ratios (goal: within 1.3x of each database's own loader).

    uv run python bench/seed.py [--rows 200000] [--repeat 3] [--no-dbt]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _process import ordo_command, postgres_schema, spread, timed, write_project

GOAL = 1.3
DBT_VENV = Path.home() / ".cache" / "ordo-bench" / "dbt"
DBT_PACKAGES = ["dbt-core<1.12", "dbt-postgres", "dbt-duckdb"]
HEADER = ["id", "amount", "active", "day", "created", "updated_at", "zip", "name", "qty", "note"]
PG_TYPES = (
    "id bigint, amount numeric(20,2), active boolean, day date, created timestamp, "
    "updated_at timestamptz, zip text, name text, qty bigint, note text"
)

DUCKDB_REFERENCE = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1])
conn.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv(?, header = true)", [sys.argv[2]])
conn.close()
"""


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(11)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow(
                [
                    i,
                    f"{rng.randint(-99999, 99999) / 100:.2f}",
                    "true" if i % 3 else "false",
                    f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                    f"2024-01-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:00",
                    f"2024-02-{i % 28 + 1:02d} 10:{i % 60:02d}:00+01:00",
                    f"{i % 100000:05d}",
                    f"customer {i}",
                    rng.randint(0, 1000),
                    "a, quoted note" if i % 7 == 0 else "",
                ]
            )


def seed_project(root: Path, url: str, csv_path: Path) -> Path:
    write_project(root, 0, url)
    (root / "seeds").mkdir()
    shutil.copy(csv_path, root / "seeds" / "t.csv")
    manifest = root / "queue" / "manifest.yaml"
    manifest.write_text("name: bench\nsteps:\n  - name: seed\n    file: t.csv\n")
    return manifest


def rounds(
    argvs: dict[str, list[str]], repeat: int, after: dict[str, object]
) -> dict[str, list[float]]:
    """Each command ``repeat`` times (after one dropped warm-up round), alternating."""
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for number in range(repeat + 1):
        for name, argv in argvs.items():
            elapsed = timed(argv)
            reset = after.get(name)
            if callable(reset):
                reset()
            if number:
                times[name].append(elapsed)
    return times


def ratio_line(label: str, ordo_s: list[float], ref_name: str, ref_s: list[float]) -> str:
    ratio = statistics.median(ordo_s) / statistics.median(ref_s)
    met = "met" if ratio < GOAL else "NOT met"
    return (
        f"{label}: {ref_name} {spread(ref_s)} s  ordo run {spread(ordo_s)} s  "
        f"ratio {ratio:4.2f}x (goal <{GOAL:g}x: {met})"
    )


def dbt_python() -> tuple[Path | None, str]:
    """The dbt virtualenv's python, made when missing; or ``None`` and why not."""
    python = DBT_VENV / "bin" / "python"
    if not (DBT_VENV / "bin" / "dbt").exists():
        DBT_VENV.parent.mkdir(parents=True, exist_ok=True)
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(DBT_VENV)], capture_output=True, check=False
        )
        if made.returncode == 0:
            made = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *DBT_PACKAGES],
                capture_output=True,
                check=False,
            )
        if made.returncode != 0:
            said = made.stderr.decode(errors="replace").strip().splitlines()
            return None, said[-1] if said else f"exit code {made.returncode}"
    return python, ""


def dbt_project(root: Path, csv_path: Path, profile: str) -> list[str]:
    (root / "seeds").mkdir(parents=True)
    shutil.copy(csv_path, root / "seeds" / "t.csv")
    (root / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0'\nprofile: bench\nseed-paths: [seeds]\n"
    )
    (root / "profiles.yml").write_text(profile)
    dbt = str(DBT_VENV / "bin" / "dbt")
    return [dbt, "seed", "--full-refresh", "--project-dir", str(root), "--profiles-dir", str(root)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-dbt", action="store_true")
    args = parser.parse_args()
    psql = shutil.which("psql")
    if psql is None:
        raise SystemExit("psql is not installed (apt-get install postgresql-client)")
    tmp = Path(tempfile.mkdtemp(prefix="ordo-bench-"))
    lines: list[str] = []
    try:
        data = tmp / "t.csv"
        write_csv(data, args.rows)
        ordo = [ordo_command(), "run", "--force", "--project"]
        with postgres_schema() as url:
            schema = url.rsplit("%3D", 1)[1]
            manifest = seed_project(tmp / "pg", url, data)
            pristine = manifest.read_bytes()
            table = f'"{schema}".t'
            connect = [psql, "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test"]
            subprocess.run([*connect, "-c", f"CREATE TABLE {table} ({PG_TYPES})"], check=True)
            copy = f"\\copy {table} from '{data}' csv header"
            psql_argv = [*connect, "-c", f"TRUNCATE {table}", "-c", copy]
            times = rounds(
                {"psql": psql_argv, "ordo": [*ordo, str(tmp / "pg")]},
                args.repeat,
                {"ordo": lambda: manifest.write_bytes(pristine)},
            )
            lines.append(
                ratio_line(
                    f"postgresql {args.rows} rows", times["ordo"], "psql \\copy", times["psql"]
                )
            )
            pg_ordo = statistics.median(times["ordo"])
            if not args.no_dbt:
                lines.append(run_dbt(tmp, data, "postgres", pg_ordo, schema))

        duck_db = tmp / "duck" / "bench.duckdb"
        manifest = seed_project(tmp / "duck", f"duckdb:///{duck_db}", data)
        pristine = manifest.read_bytes()
        reference = [sys.executable, "-c", DUCKDB_REFERENCE, str(tmp / "ref.duckdb"), str(data)]
        times = rounds(
            {"duckdb": reference, "ordo": [*ordo, str(tmp / "duck")]},
            args.repeat,
            {"ordo": lambda: manifest.write_bytes(pristine)},
        )
        lines.append(
            ratio_line(f"duckdb {args.rows} rows", times["ordo"], "read_csv", times["duckdb"])
        )
        if not args.no_dbt:
            lines.append(run_dbt(tmp, data, "duckdb", statistics.median(times["ordo"]), None))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(lines))


def run_dbt(tmp: Path, data: Path, adapter: str, ordo_median: float, schema: str | None) -> str:
    python, why = dbt_python()
    if python is None:
        return f"dbt seed ({adapter}): skipped, dbt could not be installed: {why}"
    if adapter == "postgres":
        output = (
            "      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      user: postgres\n"
            f"      password: ''\n      dbname: test\n      schema: {schema}\n      threads: 1\n"
        )
    else:
        output = f"      type: duckdb\n      path: {tmp / 'dbt.duckdb'}\n      threads: 1\n"
    profile = f"bench:\n  target: bench\n  outputs:\n    bench:\n{output}"
    argv = dbt_project(tmp / f"dbt-{adapter}", data, profile)
    env = {
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PATH": f"{DBT_VENV / 'bin'}:{os.environ['PATH']}",
    }
    elapsed = timed(argv, env=env)
    return (
        f"dbt seed ({adapter}, one round): {elapsed:7.3f} s  ordo run is "
        f"{elapsed / ordo_median:5.1f}x faster"
    )


if __name__ == "__main__":
    main()
