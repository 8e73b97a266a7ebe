"""Several migrators at once, against real PostgreSQL, MariaDB and SQLite.

Migrators run as separate PROCESSES (a child Python started with ``subprocess``), because
that is what two deploys on two machines are: threads would share the engine and hide bugs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, Engine, create_engine

from ordo.db.engines import EngineRegistry
from ordo.migrations import MigrationLockTimeout, Migrator

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from ordo.db.engines import EngineRegistry
    from ordo.migrations import Migrator
    from ordo.migrations.locks import migration_lock

    url, folder, ready, go, mode = sys.argv[1:6]
    with EngineRegistry() as registry:
        migrator = Migrator(registry.get(url), Path(folder), lock_timeout=120)
        Path(ready).touch()
        if mode == "hold":  # take the lock and keep it until killed
            table = migrator.history.table
            with migration_lock(migrator.engine, migrator.dialect, table, lock_dir=None,
                                timeout=10):
                print("locked", flush=True)
                time.sleep(600)
        while not Path(go).exists():
            time.sleep(0.005)
        result = migrator.migrate()
        print(json.dumps([a.script for a in result.applied]), flush=True)
    """
)

SLOW = {
    "postgresql": "SELECT pg_sleep(0.05);\n",
    "mysql": "DO SLEEP(0.05);\n",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) "
    "SELECT count(*) FROM c;\n",
}

SERVER_URLS = [
    pytest.param("postgres_url", marks=pytest.mark.postgres, id="postgresql"),
    pytest.param("mariadb_url", marks=pytest.mark.mariadb, id="mariadb"),
    pytest.param("sqlite_url", id="sqlite"),
]


def start_child(
    tmp_path: Path, url: URL, folder: Path, name: str, mode: str
) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    rendered = url.render_as_string(hide_password=False)
    ready, go = tmp_path / f"{name}.ready", tmp_path / "go"
    return subprocess.Popen(
        [sys.executable, str(script), rendered, str(folder), str(ready), str(go), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.exec_driver_sql(sql).scalar()


@pytest.mark.parametrize("url_fixture", SERVER_URLS)
@pytest.mark.timeout(180)
def test_two_processes_apply_each_migration_exactly_once(
    url_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url: URL = request.getfixturevalue(url_fixture)
    backend = url.get_backend_name()
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "V1__hits.sql").write_text("CREATE TABLE hits (v INT);", encoding="utf-8")
    count = 12
    for n in range(2, count + 1):
        sql = SLOW[backend] + f"INSERT INTO hits VALUES ({n});\n"
        (folder / f"V{n}__hit_{n}.sql").write_text(sql, encoding="utf-8")
    (folder / "R__view.sql").write_text(
        "CREATE VIEW hit_view AS SELECT v FROM hits;", encoding="utf-8"
    )

    children = [start_child(tmp_path, url, folder, name, "migrate") for name in ("a", "b")]
    for name in ("a", "b"):
        wait_for(tmp_path / f"{name}.ready", f"child {name} to start")
    (tmp_path / "go").touch()
    outputs = [child.communicate(timeout=150) for child in children]
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    applied = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    # Each migration ran in exactly one of the two processes.
    assert sorted(applied[0] + applied[1]) == sorted(p.name for p in folder.iterdir())
    assert not set(applied[0]) & set(applied[1])
    with EngineRegistry() as registry:
        engine = registry.get(url)
        assert scalar(engine, "SELECT COUNT(*) FROM hits") == count - 1
        assert scalar(engine, "SELECT COUNT(DISTINCT v) FROM hits") == count - 1
        assert scalar(engine, "SELECT COUNT(*) FROM schema_version") == count + 1
        assert scalar(engine, "SELECT COUNT(DISTINCT installed_rank) FROM schema_version") == (
            count + 1
        )
        assert Migrator(engine, folder).status().pending == ()


@pytest.mark.parametrize("url_fixture", SERVER_URLS)
@pytest.mark.timeout(120)
def test_a_killed_migrator_leaves_no_lock_behind(
    url_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url: URL = request.getfixturevalue(url_fixture)
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "V1__t.sql").write_text("CREATE TABLE t (x INT);", encoding="utf-8")
    holder = start_child(tmp_path, url, folder, "holder", "hold")
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked", holder.stderr
        with EngineRegistry() as registry:
            engine = registry.get(url)
            with pytest.raises(MigrationLockTimeout, match="schema_version"):
                Migrator(engine, folder, lock_timeout=0.5).migrate()
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(30)
            started = time.monotonic()
            result = Migrator(engine, folder, lock_timeout=20).migrate()
            assert [a.script for a in result.applied] == ["V1__t.sql"]
            assert time.monotonic() - started < 15
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=30)


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_create_index_concurrently_does_not_wait_for_the_migration_lock(
    postgres_url: URL, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "V1__t.sql").write_text(
        "CREATE TABLE t (x INT);\nINSERT INTO t SELECT generate_series(1, 1000);", encoding="utf-8"
    )
    (folder / "V2__index.sql").write_text(
        "-- ordo:no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\n", encoding="utf-8"
    )
    engine = create_engine(postgres_url)
    try:
        outcome: list[Any] = []

        def run() -> None:
            try:
                outcome.append(Migrator(engine, folder).migrate())
            except BaseException as exc:
                outcome.append(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(60)
        assert not worker.is_alive(), "CREATE INDEX CONCURRENTLY waited on the migration lock"
        assert [a.version for a in outcome[0].applied] == ["1", "2"], outcome
        valid = scalar(
            engine,
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_x'::regclass",
        )
        assert valid is True
    finally:
        engine.dispose()
