"""The SQLite store: where it lives, how it is set up, and two processes writing it at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from ordo.config import Settings
from ordo.store import MemoryStore, StoreError, open_store
from ordo.store.base import PlannedTask
from ordo.store.schema import HISTORY_TABLE, metadata
from ordo.store.sqlite import SqliteStore


def settings(root: Path, **values: str) -> Settings:
    return Settings(values=values, root=root)


def test_the_default_store_is_made_in_the_project_on_first_use(tmp_path: Path) -> None:
    store = open_store(settings(tmp_path), tmp_path)
    try:
        assert isinstance(store, SqliteStore)
        assert store.path == tmp_path / ".ordo" / "state.db"
        assert (tmp_path / ".ordo" / "state.db").is_file()
        assert (tmp_path / ".ordo" / ".gitignore").read_text() == "*\n"
    finally:
        store.close()


def test_the_store_runs_in_wal_mode(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "state.db").close()
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_looking_at_a_project_that_never_ran_creates_nothing(tmp_path: Path) -> None:
    store = open_store(settings(tmp_path), tmp_path, create=False)
    assert isinstance(store, MemoryStore)
    assert store.list_runs() == []
    assert not (tmp_path / ".ordo").exists()
    elsewhere = settings(tmp_path, ORDO_STATE_URL="sqlite:///history/runs.db")
    assert isinstance(open_store(elsewhere, tmp_path, create=False), MemoryStore)
    assert not (tmp_path / "history").exists()


def test_a_relative_sqlite_url_is_relative_to_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path.parent)
    store = open_store(settings(tmp_path, ORDO_STATE_URL="sqlite:///history/runs.db"), tmp_path)
    try:
        assert isinstance(store, SqliteStore)
        assert store.path == tmp_path / "history" / "runs.db"
        assert store.path.is_file()
    finally:
        store.close()


def test_the_schema_is_made_by_the_migrations_and_matches_the_code(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "state.db").close()
    SqliteStore(tmp_path / "state.db").close()  # opening again applies nothing
    engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with engine.connect() as conn:
            history = conn.exec_driver_sql(
                f"SELECT version, description, script, success FROM {HISTORY_TABLE}"
            ).all()
            found = inspect(conn)
            tables = set(found.get_table_names()) - {HISTORY_TABLE}
            assert tables == set(metadata.tables)
            for table in metadata.sorted_tables:
                columns = [c["name"] for c in found.get_columns(table.name)]
                assert columns == [c.name for c in table.columns], table.name
            indexes = {i["name"] for i in found.get_indexes("job_runs")}
            queue_indexes = {i["name"] for i in found.get_indexes("service_runs")}
    finally:
        engine.dispose()
    assert history == [
        ("1", "initial", "V1__initial.sql", 1),
        ("2", "task details", "V2__task_details.sql", 1),
        ("3", "run owner", "V3__run_owner.sql", 1),
        ("4", "service", "V4__service.sql", 1),
        ("5", "queue", "V5__queue.sql", 1),
        ("6", "attempt index", "V6__attempt_index.sql", 1),
    ]
    assert {"ix_job_runs_started", "ix_job_runs_job_status"} <= indexes
    assert "ix_service_runs_ordo_run" in queue_indexes


def test_a_folder_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError) as caught:
        SqliteStore(tmp_path / "file" / ".ordo" / "state.db")
    assert caught.value.hint
    assert "file" in caught.value.message


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as caught:
        SqliteStore(tmp_path / "state.db")
    assert "state.db" in caught.value.message
    assert "ORDO_STATE_URL" in (caught.value.hint or "")


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from ordo.store.base import PlannedTask, TaskOutcome, TaskStatus
    from ordo.store.sqlite import SqliteStore

    path, name, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = SqliteStore(path)
    job = store.record_job("shared", "/m.yaml", "steps: []")
    steps = [f"s{i}" for i in range(10)]
    for n in range(runs):
        run = f"{name}-{n}"
        now = datetime.now()
        store.start_run(run, job, started_at=now, manifest_text="x",
                        tasks=[PlannedTask(s, i) for i, s in enumerate(steps, 1)])
        for step in steps:
            store.task_started(run, step, attempt=1, at=now)
            store.task_finished(run, [TaskOutcome(step, TaskStatus.COMPLETED, now, rows=1)])
        store.finish_run(run, status="success", at=datetime.now())
    store.close()
    """
)


def test_two_processes_write_the_same_store_at_once(tmp_path: Path) -> None:
    path = tmp_path / ".ordo" / "state.db"  # neither process finds it: both create it
    runs = 150
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(runs)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("one", "two")
    ]
    for writer in writers:
        _out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    store = SqliteStore(path)
    try:
        recorded = store.list_runs(limit=1000)
        assert len(recorded) == 2 * runs
        assert all(r.completed == 10 and r.status == "success" for r in recorded)
        assert {r.job for r in recorded} == {"shared"}
    finally:
        store.close()


def test_a_reader_sees_a_run_while_it_is_written(tmp_path: Path) -> None:
    writer = SqliteStore(tmp_path / "state.db")
    reader = SqliteStore(tmp_path / "state.db")
    try:
        job = writer.record_job("p", "/m.yaml", "")
        writer.start_run("r1", job, started_at=datetime.now(), manifest_text="", tasks=[])
        writer.start_run(
            "r2", job, started_at=datetime.now(), manifest_text="", tasks=[PlannedTask("a", 1)]
        )
        assert [r.id for r in reader.list_runs()] == ["r2", "r1"]
        assert reader.get_run("r2").run.status == "running"
    finally:
        writer.close()
        reader.close()


def test_a_version_2_store_keeps_its_runs_and_tasks_when_opened_by_this_ordo(
    tmp_path: Path,
) -> None:
    """Version 3 makes job_runs and tasks again (SQLite cannot widen a CHECK): nothing is lost."""
    import shutil

    from ordo.migrations import Migrator
    from ordo.store.schema import MIGRATIONS

    old = tmp_path / "v2"
    old.mkdir()
    for script in ("V1__initial.sql", "V2__task_details.sql"):
        shutil.copy(MIGRATIONS / "sqlite" / script, old / script)
    path = tmp_path / "state.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        Migrator(engine, old, table=HISTORY_TABLE, installed_by="ordo").migrate()
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO job_definitions VALUES ('j', 'sales', NULL, 'm.yaml', 'steps: []', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO job_runs VALUES ('r1', 'j', 'running', '2026-01-01 00:00:00', "
                "NULL, NULL, 'h', 'steps: []', 0, NULL)"
            )
            conn.exec_driver_sql(
                "INSERT INTO tasks VALUES ('t1', 'r1', 1, 'a', 'sql', 1, NULL, 'COMPLETED', 1, 4, "
                "NULL, 7, 1.5, '2026-01-01 00:00:01', '2026-01-01 00:00:02', '{\"k\": 1}')"
            )
    finally:
        engine.dispose()

    store = SqliteStore(path)
    try:
        detail = store.get_run("r1")
        assert detail.run.owner is None
        [task] = detail.tasks
        assert (task.step, task.rows_affected, dict(task.details)) == ("a", 7, {"k": 1})
        assert store.mark_crashed("r1", error="gone")
        assert store.get_run("r1").run.status == "crashed"
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not {t for t in tables if t.endswith(("_v3", "_v3_copy"))}
