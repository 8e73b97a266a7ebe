"""One migrator at a time per history table, with locks that die with their holder.

Two processes migrating one database at once would both see V3 pending and both run it. The
lock serializes them: the second waits, then reads the history the first one wrote and finds
nothing left to do. Every lock here is released by the database or the kernel when its
holder dies (``kill -9`` included), so a crashed migrator never blocks the next one:

- PostgreSQL: a session-level ``pg_advisory_lock`` on a dedicated connection in autocommit.
  Autocommit matters: the connection is *idle*, not *idle in transaction*, so a
  ``CREATE INDEX CONCURRENTLY`` in a ``-- ordo:no-transaction`` migration (which waits for
  every open transaction to finish) does not wait for the migrator's own lock. The key comes
  from the database, schema and table names, so each history table has its own lock.
- MySQL/MariaDB: ``GET_LOCK('ordo_migrate_<db>_<table>', timeout)`` on a dedicated connection.
- SQLite/DuckDB: an OS file lock (``filelock``) beside the database file; ``lock_dir`` for an
  in-memory database, which without ``lock_dir`` gets a lock inside this process, since no
  other process can see that database.
- SQL Server (``sp_getapplock``, session owner) and Oracle (``DBMS_LOCK``, needs EXECUTE on
  it): written from the documentation and covered by unit tests only; no live server here.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    Integer,
    Table,
    bindparam,
    func,
    outparam,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from ordo.db.dialects import Dialect
from ordo.db.errors import database_errors
from ordo.errors import ExecutionError
from ordo.masking import Masker
from ordo.migrations.errors import MigrationLockTimeout

__all__ = ["advisory_key", "lock_file", "migration_lock", "mysql_lock_name"]

_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()
_PG_LOCK_NOT_AVAILABLE = "55P03"


@contextmanager
def migration_lock(
    engine: Engine,
    dialect: Dialect,
    table: Table,
    *,
    lock_dir: Path | None,
    timeout: float,
    masker: Masker | None = None,
) -> Iterator[None]:
    """Hold the migration lock of ``table`` for the block, waiting up to ``timeout`` seconds.

    The dialect names the kind of lock (``Dialect.migration_lock``); this module holds the
    implementations, since each speaks the migrator's errors.
    """
    if dialect.migration_lock == "file":
        with _file_lock(engine, dialect, table, lock_dir, timeout):
            yield
        return
    session_lock = _SESSION_LOCKS.get(dialect.migration_lock)
    if session_lock is None:
        raise ValueError(f"no migration lock named {dialect.migration_lock!r} ({dialect.name})")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")  # idle, never idle in transaction
        with session_lock(conn, table, timeout, masker):
            yield


def _timed_out(table: Table, timeout: float) -> MigrationLockTimeout:
    return MigrationLockTimeout(
        f"another migrator of {table.fullname} held the migration lock for more than {timeout:g} s",
        hint="wait for it to finish (see who runs `ordo migrate`), or raise lock_timeout",
    )


# -- PostgreSQL ---------------------------------------------------------------------------


def advisory_key(database: str, schema: str, table: str) -> int:
    """A signed 64-bit key for ``pg_advisory_lock``, stable across processes and versions."""
    digest = hashlib.sha256(f"ordo.migrate:{database}.{schema}.{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _postgres_lock(
    conn: Connection, table: Table, timeout: float, masker: Masker | None = None
) -> Iterator[None]:
    database, schema = conn.execute(select(func.current_database(), func.current_schema())).one()
    key = advisory_key(database, table.schema or schema or "", table.name)
    milliseconds = str(max(1, math.ceil(timeout * 1000)))
    previous = conn.execute(select(func.current_setting("lock_timeout"))).scalar_one()
    conn.execute(select(func.set_config("lock_timeout", milliseconds, False)))
    try:
        with database_errors(masker=masker):
            try:
                conn.execute(select(func.pg_advisory_lock(key)))
            except SQLAlchemyError as exc:
                if getattr(getattr(exc, "orig", None), "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
                    raise _timed_out(table, timeout) from exc
                raise
    finally:
        with suppress(Exception):
            conn.execute(select(func.set_config("lock_timeout", previous, False)))
    try:
        yield
    finally:
        with suppress(Exception):  # a broken connection has released the lock already
            conn.execute(select(func.pg_advisory_unlock(key)))


# -- MySQL / MariaDB ----------------------------------------------------------------------


def mysql_lock_name(database: str, table: str) -> str:
    """``ordo_migrate_<db>_<table>``, hashed when longer than MySQL's 64-character limit."""
    name = f"ordo_migrate_{database}_{table}"
    if len(name) > 64:
        name = "ordo_migrate_" + hashlib.sha256(name.encode()).hexdigest()[:40]
    return name


@contextmanager
def _mysql_lock(
    conn: Connection, table: Table, timeout: float, masker: Masker | None = None
) -> Iterator[None]:
    database = table.schema or conn.execute(select(func.database())).scalar() or ""
    name = mysql_lock_name(database, table.name)
    with database_errors(masker=masker):
        got = conn.execute(select(func.get_lock(name, math.ceil(timeout)))).scalar()
    if got != 1:
        raise _timed_out(table, timeout)
    try:
        yield
    finally:
        with suppress(Exception):
            conn.execute(select(func.release_lock(name)))


# -- SQL Server, Oracle (not tested against a live server) -------------------------------

_MSSQL_GET = text(
    "SET NOCOUNT ON; DECLARE @r int; EXEC @r = sp_getapplock @Resource = :name, "
    "@LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = :ms; SELECT @r"
)
_MSSQL_RELEASE = text("EXEC sp_releaseapplock @Resource = :name, @LockOwner = 'Session'")


@contextmanager
def _mssql_lock(
    conn: Connection, table: Table, timeout: float, masker: Masker | None = None
) -> Iterator[None]:
    name = f"ordo_migrate_{table.fullname}"[:255]
    result = conn.execute(_MSSQL_GET, {"name": name, "ms": math.ceil(timeout * 1000)}).scalar()
    if result is None or result < 0:  # -1 timeout, -2 cancelled, -3 deadlock, -999 error
        raise _timed_out(table, timeout)
    try:
        yield
    finally:
        with suppress(Exception):
            conn.execute(_MSSQL_RELEASE, {"name": name})


_ORACLE_GET = text(
    "DECLARE h VARCHAR2(128); BEGIN DBMS_LOCK.ALLOCATE_UNIQUE(:name, h); "
    ":result := DBMS_LOCK.REQUEST(h, DBMS_LOCK.X_MODE, :seconds, FALSE); END;"
).bindparams(bindparam("name"), bindparam("seconds"), outparam("result", Integer()))
_ORACLE_RELEASE = text(
    "DECLARE h VARCHAR2(128); r INTEGER; BEGIN DBMS_LOCK.ALLOCATE_UNIQUE(:name, h); "
    "r := DBMS_LOCK.RELEASE(h); END;"
)


@contextmanager
def _oracle_lock(
    conn: Connection, table: Table, timeout: float, masker: Masker | None = None
) -> Iterator[None]:
    name = f"ordo_migrate_{table.fullname}"[:128]
    try:
        with database_errors(masker=masker):
            result = conn.execute(_ORACLE_GET, {"name": name, "seconds": math.ceil(timeout)})
    except ExecutionError as exc:
        hint = "the migration lock uses DBMS_LOCK: GRANT EXECUTE ON DBMS_LOCK to the user"
        raise exc.with_context(hint=hint) from exc
    granted = getattr(result, "out_parameters", {}).get("result")
    if granted not in (0, 4):  # 0 granted, 4 already held
        raise _timed_out(table, timeout)
    try:
        yield
    finally:
        with suppress(Exception):
            conn.execute(_ORACLE_RELEASE, {"name": name})


# -- SQLite / DuckDB ------------------------------------------------------------------------


def lock_file(dialect: Dialect, url: URL, table: str, lock_dir: Path | None) -> Path | None:
    """Where the file lock lives: beside the database file, whoever migrates it (a lock
    elsewhere would not exclude a migrator started from another project folder); in
    ``lock_dir`` for a database in no local file (in memory); None for that without
    ``lock_dir``."""
    database = dialect.database_file(url)
    if database is None:
        return lock_dir / f"memory.{table}.migrate-lock" if lock_dir else None
    path = database.resolve()
    return path.with_name(f"{path.name}.{table}.migrate-lock")


@contextmanager
def _file_lock(
    engine: Engine, dialect: Dialect, table: Table, lock_dir: Path | None, timeout: float
) -> Iterator[None]:
    path = lock_file(dialect, engine.url, table.name, lock_dir)
    if path is None:
        with _PROCESS_LOCKS_GUARD:
            lock = _PROCESS_LOCKS.setdefault(f"{id(engine)}.{table.name}", threading.Lock())
        if not lock.acquire(timeout=timeout):
            raise _timed_out(table, timeout)
        try:
            yield
        finally:
            lock.release()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    file_lock = FileLock(path, timeout=timeout)
    try:
        file_lock.acquire()
    except Timeout as exc:
        raise _timed_out(table, timeout) from exc
    try:
        yield
    finally:
        file_lock.release()


# Dialect.migration_lock -> the lock held on a dedicated autocommit connection.
_SessionLock = Callable[[Connection, Table, float, "Masker | None"], AbstractContextManager[None]]
_SESSION_LOCKS: dict[str, _SessionLock] = {
    "pg_advisory_lock": _postgres_lock,
    "get_lock": _mysql_lock,
    "sp_getapplock": _mssql_lock,
    "dbms_lock": _oracle_lock,
}
