"""Health and pool status of a connection, as the health and pool dictionaries.

``health_check`` answers even when the database does not: the probe runs on a worker thread and
is given up after the connection's timeout, so a monitor calling it never hangs on a dead
address; the abandoned probe ends on its own when the driver's connect timeout fires.

The functions take what they use (an engine, the connection's settings, a masker, a way to read
the migration history), not a ``DatabaseManager``: the manager calls them, never the reverse.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.pool import Pool, QueuePool

from ordo.db.connect import lock_message
from ordo.db.dialects import dialect_for
from ordo.db.errors import is_database_error, translate

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ordo.config.connections import ConnectionSettings
    from ordo.masking import Masker
    from ordo.migrations.migrator import Migrator

__all__ = ["health_check", "migration_status", "pool_status", "watch_invalidations"]

_invalid_counts: weakref.WeakKeyDictionary[Pool, int] = weakref.WeakKeyDictionary()
_invalid_lock = threading.Lock()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def migration_status(
    connection: ConnectionSettings, migrator: Callable[[], Migrator]
) -> dict[str, Any]:
    """The migration status: ``current_version`` and ``pending_migrations``.

    ``migrator`` is only called when the connection has a migrations folder, so a plain
    database costs no query.
    """
    folder = connection.migrations
    if folder is None or not folder.is_dir():
        return {"current_version": None, "pending_migrations": []}
    status = migrator().status(run_callbacks=False)  # no user SQL in a check
    return {
        "current_version": status.current_version,
        "pending_migrations": [m.script for m in status.pending],
    }


def health_check(
    engine: Engine,
    connection: ConnectionSettings,
    masker: Masker,
    migrations: Callable[[], dict[str, Any]],
    *,
    slow_ms: float,
) -> dict[str, Any]:
    """The report of ``connection`` on ``engine``; ``migrations`` gives its migration status."""
    report: dict[str, Any] = {
        "database_name": connection.name,
        "database_type": connection.type,
        "status": "unhealthy",
        "connection": False,
        "query_test": False,
        "migration_status": {"current_version": None, "pending_migrations": []},
        "response_time_ms": None,
        "timestamp": _now(),
    }
    # The probe writes into its own dict; the caller's report is filled from a snapshot, so a
    # probe that answers after the deadline cannot change a report already returned.
    found: dict[str, Any] = {}
    lock = threading.Lock()
    started = time.monotonic()
    future: Future[None] = Future()
    # With every pooled connection in use, a probe through the pool would only wait for one:
    # probe on a connection of its own instead, and report the pool as exhausted.
    exhausted = _exhausted(engine)

    def note(**values: Any) -> None:
        with lock:
            found.update(values)

    def probe() -> None:
        try:
            _probe(engine, exhausted, note)
            note(response_time_ms=round((time.monotonic() - started) * 1000, 1))
            try:
                note(migration_status=migrations())
            except Exception as exc:  # the database answers; only its history is unreadable
                note(migration_error=_describe(masker, exc))
            future.set_result(None)
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=probe, name=f"ordo-health-{connection.name}", daemon=True).start()
    deadline = connection.timeout  # the driver may wait longer (psycopg: 2 s at least)
    error: str | None = None
    try:
        future.result(timeout=deadline)
    except TimeoutError:
        error = f"no answer within {deadline:g} s"
    except BaseException as exc:
        error = _describe(masker, exc)
    with lock:
        migration_error = found.pop("migration_error", None)
        report.update(found)
        found.clear()
    if error is not None:
        report["error"] = error
    if report["response_time_ms"] is None:
        report["response_time_ms"] = round((time.monotonic() - started) * 1000, 1)
    if report["connection"] and report["query_test"] and error is None:
        exhausted = exhausted or _exhausted(engine)
        slow = report["response_time_ms"] > slow_ms
        pending = bool(report["migration_status"]["pending_migrations"])
        reasons = [
            r
            for r, on in (
                ("slow", slow),
                ("pending migrations", pending),
                ("pool exhausted", exhausted),
                (f"migration status unknown ({migration_error})", migration_error is not None),
            )
            if on
        ]
        report["status"] = "degraded" if reasons else "healthy"
        if reasons:
            report["error"] = "degraded: " + ", ".join(reasons)
    return report


def _probe(engine: Engine, own_connection: bool, note: Any) -> None:
    """Connect and run the probe query, noting each success as it happens."""
    probe_sql = dialect_for(engine).probe_query
    if not own_connection:
        with engine.connect() as conn:
            note(connection=True)
            conn.execute(text(probe_sql)).fetchall()
            note(query_test=True)
        return
    # A pool like the engine's (same creator, connect events and timeouts) but empty, closed
    # again at once: the probe neither waits for nor takes a connection the program needs.
    side_pool = engine.pool.recreate()
    try:
        dbapi_connection = side_pool.connect()
        try:
            note(connection=True)
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(probe_sql)
                cursor.fetchall()
            finally:
                cursor.close()
            note(query_test=True)
        finally:
            dbapi_connection.close()
    finally:
        side_pool.dispose()


def _describe(masker: Masker, exc: BaseException) -> str:
    """The driver's first line, as ``ordo.db.errors`` words it, with every secret masked."""
    # A probe reports whatever stopped it, bug or not: it must answer, not raise.
    message = translate(exc, masker=masker).message if is_database_error(exc) else _first_line(exc)
    return masker.mask(lock_message(message))  # a locked DuckDB file: which process holds it


def pool_status(engine: Engine, database_name: str) -> dict[str, Any]:
    """The pool dictionary's keys; a pool that does not count (SQLite memory, DuckDB): zeros."""
    watch_invalidations(engine)
    pool = engine.pool
    status: dict[str, Any] = {
        "database_name": database_name,
        "pool_size": 0,
        "checked_in": 0,
        "checked_out": 0,
        "overflow": 0,
        "invalid": _invalid_counts.get(pool, 0),
        "timestamp": _now(),
    }
    if isinstance(pool, QueuePool):
        status.update(
            pool_size=pool.size(),
            checked_in=pool.checkedin(),
            checked_out=pool.checkedout(),
            overflow=max(0, pool.overflow()),
        )
    return status


def _exhausted(engine: Engine) -> bool:
    """Every connection the pool may open is checked out: the next caller would wait."""
    pool = engine.pool
    if not isinstance(pool, QueuePool) or pool._max_overflow < 0:  # -1: no limit
        return False
    return pool.checkedout() >= pool.size() + pool._max_overflow


def watch_invalidations(engine: Engine) -> None:
    """Count invalidated connections: SQLAlchemy's pool does not keep that number itself.

    Called when a manager is made, so the count covers the pool's whole life. Counts are kept
    per pool object (a disposed engine gets a new pool, which starts again at zero), weakly, so
    a forgotten pool is not kept alive and a new pool never inherits an old pool's count.
    """
    pool = engine.pool
    with _invalid_lock:
        if pool in _invalid_counts:
            return
        _invalid_counts[pool] = 0
    ref = weakref.ref(pool)

    def count(*_args: Any) -> None:
        watched = ref()
        if watched is None:
            return
        with _invalid_lock:
            if watched in _invalid_counts:
                _invalid_counts[watched] += 1

    # Listen on this pool only: a disposed engine's next pool copies the listeners, and its
    # own counter is registered when it is first watched.
    event.listen(pool, "invalidate", count)


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0] if text_ else ''}"
