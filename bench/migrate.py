"""200 migrations applied to an empty PostgreSQL database: ordo, Pyway and a bare psql loop.

Issue 3, point 15. Each tool gets its own fresh database and the same 200 files, named the way
Pyway accepts them (``V01_01__create_t001.sql``; ordo reads that version as 1.1). Each is run
the way a user runs it, as one command: ``ordo migrate``, ``pyway migrate`` (installed from
PyPI into an isolated environment by ``uvx``, so its psycopg2 and MySQL driver stay out of
ordo's lock) and ``psql -f`` once per file. Prints each time and the ratios; goal: ordo within
1.5x of the bare loop.

    uv run python bench/migrate.py [--files 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
PYWAY = "pyway==0.3.33"


def write_migrations(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True)
    files = []
    for i in range(1, count + 1):
        major, minor = divmod(i - 1, 99)
        path = folder / f"V{major + 1:02d}_{minor + 1:02d}__create_t{i:03d}.sql"
        path.write_text(
            f"CREATE TABLE t{i:03d} (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, "
            f"created DATE);\n"
            f"CREATE INDEX t{i:03d}_name ON t{i:03d} (name);\n"
            f"INSERT INTO t{i:03d} (id, name, created) VALUES (1, 'a', '2026-01-01'), "
            f"(2, 'b', '2026-01-02');\n"
        )
        files.append(path)
    return files


def psql(database: str, *args: str) -> None:
    subprocess.run(
        [
            "psql",
            "-q",
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            PG["host"],
            "-p",
            PG["port"],
            "-U",
            PG["user"],
            "-d",
            database,
            *args,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def fresh_database() -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    psql("test", "-c", f"CREATE DATABASE {name}")
    return name


def drop_database(name: str) -> None:
    psql("test", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def count_tables(database: str) -> int:
    out = subprocess.run(
        [
            "psql",
            "-tA",
            "-X",
            "-h",
            PG["host"],
            "-U",
            PG["user"],
            "-d",
            database,
            "-c",
            "SELECT count(*) FROM information_schema.tables WHERE table_name ~ '^t[0-9]{3}$'",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout.strip())


def run_ordo(folder: Path, database: str, work: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{database}",
        "DEVELOPMENT_GLOBAL_DEFAULT_MIGRATIONS": str(folder),
    }
    ordo = Path(sys.executable).with_name("ordo")
    subprocess.run(
        [str(ordo), "migrate", "--project", str(work)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def pyway_command() -> list[str]:
    uv = shutil.which("uv")
    launcher = [uv] if uv else [sys.executable, "-m", "uv"]
    return [*launcher, "tool", "run", "--quiet", "--from", PYWAY, "pyway"]


def run_pyway(folder: Path, database: str, work: Path) -> None:
    subprocess.run(
        [
            *pyway_command(),
            "migrate",
            "--database-type",
            "postgres",
            "--database-host",
            PG["host"],
            "--database-port",
            PG["port"],
            "--database-name",
            database,
            "--database-username",
            PG["user"],
            "--database-password",
            "",
            "--database-migration-dir",
            str(folder),
            "--database-table",
            "public.pyway_history",
        ],
        check=True,
        cwd=work,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PGPASSWORD": ""},
    )


def run_psql_loop(folder: Path, database: str, work: Path) -> None:
    for path in sorted(folder.glob("*.sql")):
        psql(database, "-1", "-f", str(path))  # -1: each file in one transaction, like a migrator


def timed(tool: Callable[[Path, str, Path], None], folder: Path, work: Path, count: int) -> float:
    database = fresh_database()
    try:
        started = time.perf_counter()
        tool(folder, database, work)
        elapsed = time.perf_counter() - started
        assert count_tables(database) == count, f"{tool.__name__} did not apply every migration"
        return elapsed
    finally:
        drop_database(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ordo-bench-migrate-"))
    try:
        folder = work / "migrations"
        write_migrations(folder, args.files)
        subprocess.run(
            [*pyway_command(), "--help"], check=True, stdout=subprocess.DEVNULL
        )  # install once
        times = {
            "psql -f loop": timed(run_psql_loop, folder, work, args.files),
            "ordo migrate": timed(run_ordo, folder, work, args.files),
            "pyway migrate": timed(run_pyway, folder, work, args.files),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    bare = times["psql -f loop"]
    for name, seconds in times.items():
        ratio = seconds / bare
        print(f"{name:<14} {args.files} files  {seconds:7.2f}s  ratio to psql loop {ratio:5.2f}x")
    ratio = times["ordo migrate"] / bare
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"goal: ordo within 1.5x of the bare loop: {verdict} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
