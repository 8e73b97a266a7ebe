"""A history table in Flyway's layout (no ``version_rank``), on every backend: found by its
columns, read and written as Flyway does, and left alone when it is not Flyway's.

The table is created with Flyway's columns in portable SQL; the PostgreSQL and MariaDB
takeover with Flyway's own DDL is tests/acceptance/test_cli_migrate_flyway.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

from ordo.migrations import Migrator, checksum

FLYWAY_DDL = (
    "CREATE TABLE {table} (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), "
    "description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, "
    "checksum INT, installed_by VARCHAR(100) NOT NULL, "
    "installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL, "
    "success BOOLEAN NOT NULL)"
)
INSERT = (
    "INSERT INTO {table} (installed_rank, version, description, type, script, checksum, "
    "installed_by, execution_time, success) VALUES (:rank, :version, :description, :type, "
    ":script, :checksum, 'flyway', 5, :success)"
)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_bytes(sql.encode("utf-8"))
    return folder


def flyway_table(engine: Engine, rows: list[dict[str, Any]], table: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(FLYWAY_DDL.format(table=table)))
        for row in rows:
            conn.execute(text(INSERT.format(table=table)), row)


def history(engine: Engine, table: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text(f"SELECT * FROM {table} ORDER BY installed_rank"))
        return [dict(r._mapping) for r in result]


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_a_baseline_marker_and_a_failed_row_are_read_and_repaired(
    engine: Engine, tmp_path: Path
) -> None:
    files = {
        "V1__one.sql": "CREATE TABLE one (id INT);\n",
        "V2__two.sql": "CREATE TABLE two (id INT);\n",
        "V3__three.sql": "CREATE TABLE three (id INT);\n",
    }
    folder = write(tmp_path / "m", files)
    flyway_table(
        engine,
        [
            {  # Flyway's baseline marker: files at or below 1 never run
                "rank": 1,
                "version": "1",
                "description": "<< Flyway Baseline >>",
                "type": "BASELINE",
                "script": "<< Flyway Baseline >>",
                "checksum": None,
                "success": True,
            },
            {  # a failure Flyway could not roll back (MySQL) leaves such a row
                "rank": 2,
                "version": "2",
                "description": "two",
                "type": "SQL",
                "script": "V2__two.sql",
                "checksum": checksum(files["V2__two.sql"]),
                "success": False,
            },
        ],
        "flyway_schema_history",
    )
    migrator = Migrator(engine, folder)
    state = migrator.status()
    assert state.current_version == "1"
    assert [e.type for e in state.applied] == ["BASELINE"]
    assert [e.version for e in state.failed] == ["2"]
    assert [p.message for p in state.problems if "failed" in p.message]

    removed = migrator.repair()
    assert [e.version for e in removed.removed] == ["2"]
    result = migrator.migrate()
    assert [a.version for a in result.applied] == ["2", "3"]
    assert "one" not in tables(engine)  # at the baseline: never run
    rows = history(engine, "flyway_schema_history")
    assert [(r["installed_rank"], r["version"], r["type"]) for r in rows] == [
        (1, "1", "BASELINE"),
        (2, "2", "SQL"),  # Flyway's rank rule: one above the highest left
        (3, "3", "SQL"),
    ]
    assert all("version_rank" not in r for r in rows)
    assert "schema_version" not in tables(engine)


def test_baseline_writes_flyway_s_row_into_an_empty_flyway_table(
    engine: Engine, tmp_path: Path
) -> None:
    folder = write(tmp_path / "m", {"V1__one.sql": "CREATE TABLE one (id INT);\n"})
    flyway_table(engine, [], "schema_version")  # Flyway 4's name, the one ordo uses by default
    Migrator(engine, folder).baseline("1")
    rows = history(engine, "schema_version")
    assert [(r["installed_rank"], r["version"], r["type"], r["checksum"]) for r in rows] == [
        (1, "1", "BASELINE", None)
    ]
    assert "version_rank" not in rows[0]


def test_a_flyway_named_table_without_flyway_s_columns_is_not_the_history(
    engine: Engine, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE flyway_schema_history (id INT)"))
    folder = write(tmp_path / "m", {"V1__one.sql": "CREATE TABLE one (id INT);\n"})
    migrator = Migrator(engine, folder)
    assert migrator.migrate().applied
    assert [r["version"] for r in history(engine, "schema_version")] == ["1"]
    assert "version_rank" in history(engine, "schema_version")[0]  # Pyway's layout, as before
