"""Migrations against real SQLite, DuckDB, PostgreSQL and MariaDB (each test on each backend).

What runs, in which order, what the history says afterwards, and what is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect

from ordo.db.dialects import dialect_for
from ordo.errors import ConfigError, TransientError
from ordo.migrations import (
    BaselineRefused,
    MigrationFailed,
    MigrationReadOnly,
    MigrationValidationError,
    Migrator,
    checksum,
)


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    return folder


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql).all()]


def history(engine: Engine, table: str = "schema_version") -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY installed_rank")
        return [dict(r._mapping) for r in result]


def has_table(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return inspect(conn).has_table(name)


def backend(engine: Engine) -> str:
    return dialect_for(engine).backend  # "mysql" for MariaDB


def log_step(name: str) -> str:
    """SQL appending ``name`` to the log with its position: proves the order things ran in."""
    return f"INSERT INTO log (pos, name) SELECT COUNT(*) + 1, '{name}' FROM log;\n"


LOG = "CREATE TABLE log (pos INT, name VARCHAR(20));\n"


def test_migrations_apply_in_numeric_order_with_their_history(
    engine: Engine, tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "m",
        {
            "V1__create_log.sql": LOG + log_step("1"),
            "V1.10__ten.sql": log_step("1.10"),
            "V1.9__nine.sql": log_step("1.9"),
            "V2__two.sql": log_step("2"),
            "V10__ten.sql": log_step("10"),
            "V2_5__two_and_a_half.sql": log_step("2.5"),
        },
    )
    migrator = Migrator(engine, folder)
    result = migrator.migrate()

    order = ["1", "1.9", "1.10", "2", "2.5", "10"]
    assert [a.version for a in result.applied] == order
    assert rows(engine, "SELECT name FROM log ORDER BY pos") == [(v,) for v in order]
    assert result.initial_version is None
    assert result.current_version == "10"
    assert all(a.execution_time_ms >= 0 for a in result.applied)

    entries = history(engine)
    assert [e["version"] for e in entries] == order
    assert [e["installed_rank"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e["version_rank"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert {e["type"] for e in entries} == {"SQL"}
    assert all(bool(e["success"]) for e in entries)
    assert entries[0]["description"] == "create log"
    assert entries[0]["script"] == "V1__create_log.sql"
    assert entries[0]["checksum"] == checksum(LOG + log_step("1"))
    assert entries[0]["installed_on"] is not None
    assert entries[4]["script"] == "V2_5__two_and_a_half.sql"

    again = migrator.migrate()
    assert again.applied == ()
    assert again.nothing_to_do
    status = migrator.status()
    assert status.current_version == "10"
    assert status.pending == ()
    assert status.problems == ()
    assert status.failed == ()
    assert len(status.applied) == 6


def test_current_version_is_shown_as_written(engine: Engine, tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m", {"V001__a.sql": "SELECT 1;", "V002__b.sql": "", "V003__c.sql": "SELECT 3"}
    )
    assert Migrator(engine, folder).migrate().current_version == "003"
    write(folder, {"V3_1__d.sql": "SELECT 4;"})
    assert Migrator(engine, folder).migrate().current_version == "3.1"
    assert Migrator(engine, folder).status().current_version == "3.1"


def test_dry_run_lists_in_order_and_touches_nothing(engine: Engine, tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {"V2__b.sql": log_step("2"), "V1__a.sql": LOG, "R__r.sql": log_step("r")},
    )
    migrator = Migrator(engine, folder)
    result = migrator.migrate(dry_run=True)
    assert result.dry_run
    assert [m.script for m in result.planned] == ["V1__a.sql", "V2__b.sql", "R__r.sql"]
    assert result.applied == ()
    assert result.current_version == "2"
    assert not has_table(engine, "schema_version")
    assert not has_table(engine, "log")

    # With a target, repeatables still run (Flyway's rule): R__r runs after V1.
    assert [a.script for a in migrator.migrate(target="1").applied] == ["V1__a.sql", "R__r.sql"]
    later = migrator.migrate(dry_run=True)
    assert [m.script for m in later.planned] == ["V2__b.sql"]
    assert (later.initial_version, later.current_version) == ("1", "2")
    assert rows(engine, "SELECT name FROM log") == [("r",)]


def test_target_stops_at_that_version(engine: Engine, tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {"V1__a.sql": LOG, "V2__b.sql": log_step("2"), "V3__c.sql": log_step("3")},
    )
    migrator = Migrator(engine, folder)
    result = migrator.migrate(target="2")
    assert [a.version for a in result.applied] == ["1", "2"]
    assert [m.script for m in migrator.status().pending] == ["V3__c.sql"]
    assert [a.version for a in migrator.migrate().applied] == ["3"]


def test_tampered_and_missing_files_are_refused_until_fixed_or_repaired(
    engine: Engine, tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "m", {"V1__create.sql": LOG, "V2__fill.sql": log_step("2"), "V3__x.sql": ""}
    )
    migrator = Migrator(engine, folder)
    migrator.migrate()

    # Line endings alone are not a change: a checkout on Windows validates.
    (folder / "V1__create.sql").write_bytes(LOG.replace("\n", "\r\n").encode())
    migrator.validate()

    (folder / "V2__fill.sql").write_text(log_step("2") + "-- tweaked\n", encoding="utf-8")
    (folder / "V3__x.sql").unlink()
    write(folder, {"V4__new.sql": log_step("4")})
    with pytest.raises(MigrationValidationError):
        migrator.validate()
    with pytest.raises(MigrationValidationError) as caught:
        migrator.migrate()
    messages = [p.message for p in caught.value.problems]
    assert any("V2__fill.sql" in m and "changed" in m for m in messages)
    assert any("V3__x.sql" in m and "missing" in m for m in messages)
    assert any("ordo migrate repair" in (p.hint or "") for p in caught.value.problems)
    assert caught.value.file == folder / "V2__fill.sql"
    assert rows(engine, "SELECT COUNT(*) FROM log") == [(1,)]  # V4 did not run

    status = migrator.status()  # reports without raising
    assert len(status.problems) == 2
    assert [m.script for m in status.pending] == ["V4__new.sql"]

    write(folder, {"V3__x.sql": ""})  # restore the missing file
    repaired = migrator.repair()  # accept the deliberate change to V2
    assert [(r.script, r.new_checksum) for r in repaired.realigned] == [
        ("V2__fill.sql", checksum(log_step("2") + "-- tweaked\n"))
    ]
    assert repaired.removed == ()
    assert [a.version for a in migrator.migrate().applied] == ["4"]
    assert not migrator.repair().changed


def test_a_failing_migration_stops_the_run(engine: Engine, tmp_path: Path) -> None:
    folder = write(
        tmp_path / "m",
        {
            "V1__ok.sql": LOG + log_step("1"),
            "V2__breaks.sql": "CREATE TABLE half (x INT);\n"
            + log_step("2")
            + "\nINSERT INTO no_such_table VALUES (1);\n",
            "V3__later.sql": log_step("3"),
        },
    )
    migrator = Migrator(engine, folder)
    with pytest.raises(MigrationFailed) as caught:
        migrator.migrate()
    error = caught.value
    assert "V2__breaks.sql" in error.message
    assert "statement 3 (line 4: INSERT INTO no_such_table VALUES (1))" in error.message
    assert "no_such_table" in error.cause.message
    assert (error.file, error.line, error.statement) == (folder / "V2__breaks.sql", 4, 3)
    assert [a.version for a in error.applied] == ["1"]
    assert rows(engine, "SELECT name FROM log ORDER BY pos") == [("1",)]  # not V2's, not V3's

    if backend(engine) == "mysql":
        # DDL committed on its own: the table stays, the failure is recorded and blocks.
        assert "recorded as failed" in (error.hint or "")
        assert has_table(engine, "half")
        assert [(e["version"], bool(e["success"])) for e in history(engine)] == [
            ("1", True),
            ("2", False),
        ]
        with pytest.raises(MigrationValidationError, match=r"V2 .* failed"):
            migrator.migrate()
        assert [m.version for m in migrator.status().failed] == ["2"]
        write(folder, {"V2__breaks.sql": "DROP TABLE half;\n" + log_step("2")})
        assert [e.version for e in migrator.repair().removed] == ["2"]
    else:
        # One transaction: nothing of V2 is left, nothing recorded, a rerun simply retries.
        assert "nothing of it was kept" in (error.hint or "")
        assert not has_table(engine, "half")
        assert [e["version"] for e in history(engine)] == ["1"]
        with pytest.raises(MigrationFailed):
            migrator.migrate()
        write(folder, {"V2__breaks.sql": "CREATE TABLE half (x INT);\n" + log_step("2")})

    assert [a.version for a in migrator.migrate().applied] == ["2", "3"]
    assert rows(engine, "SELECT name FROM log ORDER BY pos") == [("1",), ("2",), ("3",)]


def test_a_no_transaction_migration_is_kept_and_recorded_when_it_fails(
    engine: Engine, tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "m",
        {
            "V1__ok.sql": LOG,
            "V2__outside.sql": "-- ordo:no-transaction\n"
            + log_step("2")
            + "INSERT INTO no_such_table VALUES (1);\n",
        },
    )
    migrator = Migrator(engine, folder)
    with pytest.raises(MigrationFailed, match="statement 2 ") as caught:
        migrator.migrate()
    assert "recorded as failed" in (caught.value.hint or "")
    assert rows(engine, "SELECT name FROM log") == [("2",)]  # autocommitted: kept
    assert [bool(e["success"]) for e in history(engine)] == [True, False]
    with pytest.raises(MigrationValidationError):
        migrator.migrate()
    write(folder, {"V2__outside.sql": "-- ordo:no-transaction\nDELETE FROM log;\n"})
    assert len(migrator.repair().removed) == 1
    assert [a.version for a in migrator.migrate().applied] == ["2"]


def test_repeatables_run_after_versions_and_again_only_when_changed(
    engine: Engine, tmp_path: Path
) -> None:
    folder = write(
        tmp_path / "m",
        {
            "R__b_second.sql": log_step("rb"),
            "R__a_first.sql": log_step("ra"),
            "V1__log.sql": LOG,
            "V2__two.sql": log_step("2"),
        },
    )
    migrator = Migrator(engine, folder)
    first = migrator.migrate()
    assert [a.script for a in first.applied] == [
        "V1__log.sql",
        "V2__two.sql",
        "R__a_first.sql",
        "R__b_second.sql",
    ]
    assert migrator.migrate().applied == ()

    write(folder, {"R__b_second.sql": log_step("rb2")})
    again = migrator.migrate()
    assert [(a.version, a.script) for a in again.applied] == [(None, "R__b_second.sql")]
    assert rows(engine, "SELECT name FROM log ORDER BY pos") == [
        ("2",),
        ("ra",),
        ("rb",),
        ("rb2",),
    ]
    repeatable_rows = [e for e in history(engine) if e["version"] is None]
    assert [(e["script"], e["type"]) for e in repeatable_rows] == [
        ("R__a_first.sql", "SQL"),
        ("R__b_second.sql", "SQL"),
        ("R__b_second.sql", "SQL"),
    ]
    assert migrator.status().pending == ()


def test_baseline_marks_an_existing_database(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(LOG.strip().rstrip(";"))
    folder = write(
        tmp_path / "m",
        {
            "V1__log.sql": LOG,  # would fail: the table exists
            "V2__two.sql": "DROP TABLE log;",  # would break the database
            "V3__three.sql": log_step("3"),
        },
    )
    migrator = Migrator(engine, folder)
    migrator.baseline("2")
    migrator.baseline("2")  # again at the same version: nothing to do
    (entry,) = history(engine)
    assert (entry["version"], entry["type"], entry["checksum"]) == ("2", "BASELINE", None)
    assert entry["description"] == "<< Baseline >>"
    assert migrator.status().current_version == "2"
    assert [m.script for m in migrator.status().pending] == ["V3__three.sql"]
    assert [a.version for a in migrator.migrate().applied] == ["3"]

    with pytest.raises(BaselineRefused, match="already holds 2 entries"):
        migrator.baseline("5")


def test_baseline_is_refused_once_migrations_ran(engine: Engine, tmp_path: Path) -> None:
    migrator = Migrator(engine, write(tmp_path / "m", {"V1__log.sql": LOG}))
    migrator.migrate()
    with pytest.raises(BaselineRefused) as caught:
        migrator.baseline("1")
    assert caught.value.hint


def test_out_of_order_is_refused_unless_asked(engine: Engine, tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"V1__log.sql": LOG, "V3__three.sql": log_step("3")})
    migrator = Migrator(engine, folder)
    migrator.migrate()
    write(folder, {"V2__late.sql": log_step("2")})
    with pytest.raises(MigrationValidationError, match=r"V2__late\.sql") as caught:
        migrator.migrate()
    assert "--out-of-order" in (caught.value.hint or "")
    result = migrator.migrate(out_of_order=True)
    assert [a.version for a in result.applied] == ["2"]
    assert result.current_version == "3"
    ranks = {e["version"]: (e["installed_rank"], e["version_rank"]) for e in history(engine)}
    assert ranks == {"1": (1, 1), "3": (2, 3), "2": (3, 2)}


def test_read_only_refuses_every_write(engine: Engine, tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"V1__log.sql": LOG})
    migrator = Migrator(engine, folder, read_only=True)
    for action in (migrator.migrate, migrator.repair, lambda: migrator.baseline("1")):
        with pytest.raises(MigrationReadOnly, match="read-only") as caught:
            action()
        assert caught.value.hint
    assert [m.script for m in migrator.migrate(dry_run=True).planned] == ["V1__log.sql"]
    assert migrator.status().pending != ()
    assert not has_table(engine, "schema_version")


def test_history_table_name_and_installed_by(engine: Engine, tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"V1__log.sql": LOG})
    Migrator(engine, folder, table="ordo_history", installed_by="deploy-bot").migrate()
    assert not has_table(engine, "schema_version")
    (entry,) = history(engine, "ordo_history")
    assert entry["installed_by"] == "deploy-bot"
    assert Migrator(engine, folder, table="ordo_history").status().current_version == "1"


BLOCKS = {
    "postgresql": """
        CREATE TABLE t (x INT);
        CREATE FUNCTION bump() RETURNS trigger AS $$
        BEGIN
            NEW.x := NEW.x + 1;  -- a ; inside the body
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER bump BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION bump();
        DO $do$ BEGIN INSERT INTO t VALUES (1); END $do$;
        INSERT INTO t VALUES (10);
    """,
    "mysql": """
        CREATE TABLE t (x INT);
        CREATE TRIGGER bump BEFORE INSERT ON t FOR EACH ROW
        BEGIN
            IF NEW.x IS NOT NULL THEN SET NEW.x = NEW.x + 1; END IF;
        END;
        CREATE PROCEDURE fill() BEGIN INSERT INTO t VALUES (1); INSERT INTO t VALUES (10); END;
        CALL fill();
        DROP PROCEDURE fill;
    """,
    "sqlite": """
        CREATE TABLE t (x INT);
        CREATE TABLE seen (x INT);
        CREATE TRIGGER bump AFTER INSERT ON t BEGIN
            UPDATE t SET x = x + 1 WHERE rowid = new.rowid;
            INSERT INTO seen VALUES (CASE WHEN new.x > 0 THEN 1 ELSE 0 END);
        END;
        INSERT INTO t VALUES (1); INSERT INTO t VALUES (10);
    """,
    "duckdb": """
        CREATE TABLE t (x INT);
        CREATE MACRO bump(v) AS v + 1;
        INSERT INTO t SELECT bump(1); INSERT INTO t VALUES (bump($$10$$::INT));
    """,
}


def test_files_with_blocks_run_statement_by_statement(engine: Engine, tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"V1__blocks.sql": BLOCKS[backend(engine)]})
    Migrator(engine, folder).migrate()
    assert rows(engine, "SELECT x FROM t ORDER BY x") == [(2,), (11,)]


def test_a_plain_sqlite_engine_still_rolls_back_ddl(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    folder = write(
        tmp_path / "m", {"V1__breaks.sql": "CREATE TABLE a (x INT);\nINSERT INTO nope VALUES (1);"}
    )
    with pytest.raises(MigrationFailed):
        Migrator(engine, folder).migrate()
    assert not has_table(engine, "a")
    engine.dispose()


def test_sqlite_vacuum_runs_outside_a_transaction(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'v.db'}")
    folder = write(
        tmp_path / "m",
        {
            "V1__t.sql": "CREATE TABLE t (x INT);",
            "V2__vacuum.sql": "-- ordo:no-transaction\nVACUUM;",
        },
    )
    assert [a.version for a in Migrator(engine, folder).migrate().applied] == ["1", "2"]
    engine.dispose()


def test_a_bad_table_name_is_a_config_error(tmp_path: Path) -> None:
    engine = create_engine("sqlite://")
    with pytest.raises(ConfigError, match="migration history table"):
        Migrator(engine, tmp_path, table="history; DROP TABLE users")


def test_an_unreachable_database_is_a_transient_error(tmp_path: Path) -> None:
    folder = write(tmp_path / "m", {"V1__a.sql": "SELECT 1;"})
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test")
    migrator = Migrator(engine, folder)
    with pytest.raises(TransientError):
        migrator.migrate()
    with pytest.raises(TransientError):
        migrator.status()
    engine.dispose()
