"""Lock names, keys and files, and the SQL Server / Oracle locks against a fake connection."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import URL, create_engine

from ordo.db.dialects import dialect_for, parse_table_name
from ordo.migrations import MigrationLockTimeout
from ordo.migrations.history import history_table
from ordo.migrations.locks import (
    _MSSQL_GET,
    _ORACLE_GET,
    _mssql_lock,
    _oracle_lock,
    advisory_key,
    lock_file,
    migration_lock,
    mysql_lock_name,
)


def test_advisory_keys_are_stable_signed_64_bit_and_per_table() -> None:
    key = advisory_key("test", "public", "schema_version")
    assert key == advisory_key("test", "public", "schema_version")
    assert -(2**63) <= key < 2**63
    others = {
        advisory_key("test", "other", "schema_version"),
        advisory_key("prod", "public", "schema_version"),
        advisory_key("test", "public", "history"),
    }
    assert key not in others
    assert len(others) == 3


def test_mysql_lock_names_fit_in_64_characters() -> None:
    assert mysql_lock_name("shop", "schema_version") == "ordo_migrate_shop_schema_version"
    long = mysql_lock_name("d" * 64, "t" * 64)
    assert len(long) <= 64
    assert long.startswith("ordo_migrate_")
    assert long != mysql_lock_name("d" * 64, "t" * 63)


def _sqlite_lock_file(database: str | None, table: str, lock_dir: Path | None) -> Path | None:
    url = URL.create("sqlite", database=database)
    return lock_file(dialect_for("sqlite"), url, table, lock_dir)


def test_lock_files_sit_beside_the_database_whatever_lock_dir_says(tmp_path: Path) -> None:
    database = str(tmp_path / "app.db")
    beside = tmp_path / "app.db.schema_version.migrate-lock"
    assert _sqlite_lock_file(database, "schema_version", None) == beside
    assert _sqlite_lock_file(database, "schema_version", tmp_path / "locks") == beside
    assert (
        _sqlite_lock_file(f"file:{database}?mode=rw", "h", None)
        == tmp_path / "app.db.h.migrate-lock"
    )


def test_in_memory_databases_lock_in_lock_dir_or_in_process(tmp_path: Path) -> None:
    assert _sqlite_lock_file(":memory:", "h", None) is None
    assert _sqlite_lock_file(None, "h", None) is None
    assert _sqlite_lock_file(":memory:", "h", tmp_path) == tmp_path / "memory.h.migrate-lock"


def _table(backend: str) -> Any:
    return history_table(parse_table_name("schema_version"), dialect_for(backend))


def test_a_held_file_lock_times_out(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    dialect, table = dialect_for(engine), _table("sqlite")
    with migration_lock(engine, dialect, table, lock_dir=None, timeout=5):
        errors: list[BaseException] = []

        def second() -> None:
            try:
                with migration_lock(engine, dialect, table, lock_dir=None, timeout=0.2):
                    pass
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(10)
    assert len(errors) == 1
    assert isinstance(errors[0], MigrationLockTimeout)
    assert "schema_version" in str(errors[0])
    assert errors[0].hint
    with migration_lock(engine, dialect, table, lock_dir=None, timeout=0.2):
        pass  # released
    engine.dispose()


def test_an_in_memory_database_locks_within_the_process() -> None:
    engine = create_engine("sqlite://")
    dialect, table = dialect_for(engine), _table("sqlite")
    with migration_lock(engine, dialect, table, lock_dir=None, timeout=5):
        outcome: list[str] = []

        def second() -> None:
            try:
                with migration_lock(engine, dialect, table, lock_dir=None, timeout=0.1):
                    outcome.append("got it")
            except MigrationLockTimeout:
                outcome.append("timed out")

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(10)
    assert outcome == ["timed out"]
    engine.dispose()


class FakeResult:
    def __init__(self, value: Any) -> None:
        self.value = value
        self.out_parameters = {"result": value}

    def scalar(self) -> Any:
        return self.value


class FakeConnection:
    """Records what is executed and answers the lock request with ``answer``."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.executed: list[tuple[str, dict[str, Any]]] = []

    def execute(self, statement: Any, params: dict[str, Any]) -> FakeResult:
        self.executed.append((str(statement), params))
        return FakeResult(self.answer)


@pytest.mark.parametrize(("answer", "granted"), [(0, True), (1, True), (-1, False), (-3, False)])
def test_sql_server_applock(answer: int, granted: bool) -> None:
    conn: Any = FakeConnection(answer)
    table = _table("mssql")
    if granted:
        with _mssql_lock(conn, table, 2.5):
            assert len(conn.executed) == 1
        assert "sp_releaseapplock" in conn.executed[-1][0]
    else:
        with pytest.raises(MigrationLockTimeout), _mssql_lock(conn, table, 2.5):
            pass
    sql, params = conn.executed[0]
    assert "sp_getapplock" in sql
    assert "@LockOwner = 'Session'" in sql
    assert params == {"name": "ordo_migrate_schema_version", "ms": 2500}


@pytest.mark.parametrize(("answer", "granted"), [(0, True), (4, True), (1, False), (5, False)])
def test_oracle_dbms_lock(answer: int, granted: bool) -> None:
    conn: Any = FakeConnection(answer)
    table = _table("oracle")
    if granted:
        with _oracle_lock(conn, table, 1.2):
            pass
        assert "DBMS_LOCK.RELEASE" in conn.executed[-1][0]
    else:
        with pytest.raises(MigrationLockTimeout), _oracle_lock(conn, table, 1.2):
            pass
    assert conn.executed[0][1] == {"name": "ordo_migrate_SCHEMA_VERSION", "seconds": 2}


def test_sql_server_and_oracle_lock_statements_compile() -> None:
    mssql = str(_MSSQL_GET.compile(dialect=dialect_for("mssql").sa_dialect))
    assert "EXEC @r = sp_getapplock @Resource = :name, @LockMode = 'Exclusive'" in mssql
    assert "@LockTimeout = :ms; SELECT @r" in mssql
    oracle = str(_ORACLE_GET.compile(dialect=dialect_for("oracle").sa_dialect))
    assert "DBMS_LOCK.REQUEST(h, DBMS_LOCK.X_MODE, :seconds, FALSE)" in oracle
    assert ":result :=" in oracle
