"""One SQLAlchemy engine per database URL per process, configured the way ordo needs.

An engine owns a connection pool; making one per step would open a connection per step and
lose pooling. The registry hands out the same engine for the same URL, from any thread, and
closes them all at the end of a run.

SQLite needs two fixes over SQLAlchemy's defaults. Python's sqlite3 module (before 3.12's
``autocommit``) does not begin a transaction before DDL, so a rolled-back transaction group
would leave its ``CREATE TABLE`` behind: ordo turns the module's own transaction handling off
and emits ``BEGIN`` itself when SQLAlchemy begins (the recipe in SQLAlchemy's SQLite docs).
And the default busy timeout waits long on a locked file; a short one makes lock contention
surface as a transient error that the runner retries with backoff.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from ordo.db.url import require_driver

__all__ = ["EngineRegistry"]

DEFAULT_SQLITE_BUSY_TIMEOUT = 5.0


class EngineRegistry:
    """Thread-safe map from URL to engine; ``get`` creates on first use.

    Engines keep the URL's password, so keys are the full rendered URL and nothing here is
    ever logged. Use as a context manager, or call ``dispose_all`` when done.
    """

    def __init__(self, *, sqlite_busy_timeout: float = DEFAULT_SQLITE_BUSY_TIMEOUT) -> None:
        self._sqlite_busy_timeout = sqlite_busy_timeout
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def get(self, url: URL | str) -> Engine:
        """The engine for ``url`` (already normalized, see ``ordo.db.url.normalize_url``).

        A missing driver raises ``ConfigError`` with the install line.
        """
        url = make_url(url) if isinstance(url, str) else url
        key = url.render_as_string(hide_password=False)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                require_driver(url)
                engine = self._create(url)
                self._engines[key] = engine
            return engine

    def dispose_all(self) -> None:
        """Close every pooled connection and forget the engines (new ``get`` calls recreate)."""
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.dispose()

    def __len__(self) -> int:
        return len(self._engines)

    def __enter__(self) -> EngineRegistry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.dispose_all()

    def _create(self, url: URL) -> Engine:
        backend = url.get_backend_name()
        if backend == "sqlite":
            connect_args: dict[str, Any] = {}
            if "timeout" not in url.query:  # a ?timeout= in the URL wins
                connect_args["timeout"] = self._sqlite_busy_timeout
            engine = create_engine(url, connect_args=connect_args)
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        if backend == "duckdb":
            return create_engine(url)  # in-process: no network to ping
        connect_args = {}
        if backend == "postgresql" and "application_name" not in url.query:
            connect_args["application_name"] = "ordo"  # visible in pg_stat_activity
        # pre-ping: a pooled connection the server closed overnight is replaced, not used.
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Stop sqlite3 from issuing BEGIN/COMMIT on its own guesses; _sqlite_begin takes over.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    conn.exec_driver_sql("BEGIN")
