"""A SQLite database written as a ``file:`` URI is a file database like any other.

``migrate status`` and a run's recovery must not create a database file that does not exist
yet (connecting would), and they used to check only plain paths: a ``file:`` URI (``?uri=true``)
was taken as existing, so ``status`` created the file.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from ordo.migrations.migrator import Migrator


def test_status_of_a_missing_file_uri_database_does_not_create_it(tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    url = make_url(f"sqlite:///file:{database}?mode=rwc&uri=true")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "V1__start.sql").write_text("CREATE TABLE t (x INTEGER);\n")
    engine = create_engine(url)
    try:
        status = Migrator(engine, tmp_path / "migrations").status()
    finally:
        engine.dispose()
    assert [m.script for m in status.pending] == ["V1__start.sql"]
    assert status.current_version is None
    assert not database.exists()
