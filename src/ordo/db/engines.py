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
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from ordo.config.url import require_driver

if TYPE_CHECKING:
    from ordo.config.connections import ConnectionSettings

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

    def for_connection(self, settings: ConnectionSettings) -> Engine:
        """The engine of a named connection, with its pool, timeouts and read-only rule.

        Server databases get a ``QueuePool`` of ``pool_size`` plus ``max_overflow``, waiting at
        most ``timeout`` seconds for a free connection or for the server to answer a connect.
        A read-only connection is made read-only by the server itself, so no statement can
        write through it whatever it says (PostgreSQL ``default_transaction_read_only``, MySQL
        ``SET SESSION TRANSACTION READ ONLY``, SQLite ``query_only``, DuckDB ``read_only``).
        """
        url = settings.url
        key = f"{settings.name}|{url.render_as_string(hide_password=False)}"
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                require_driver(url)
                engine = self._create(url, settings)
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

    def _create(self, url: URL, settings: ConnectionSettings | None = None) -> Engine:
        backend = url.get_backend_name()
        read_only = settings is not None and settings.read_only
        connect_args: dict[str, Any] = {}
        if backend == "sqlite":
            if "timeout" not in url.query:  # a ?timeout= in the URL wins
                connect_args["timeout"] = self._sqlite_busy_timeout
            pool: dict[str, Any] = {}
            if settings is not None and url.database not in (None, "", ":memory:"):
                pool = {
                    "pool_size": settings.pool_size,
                    "max_overflow": settings.max_overflow,
                    "pool_timeout": settings.timeout,
                }
            engine = create_engine(url, connect_args=connect_args, **pool)
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            if read_only:
                event.listen(engine, "connect", _run_on_connect("PRAGMA query_only = ON"))
            return engine
        if backend == "duckdb":
            if read_only:
                connect_args["read_only"] = True
            # A file gets a QueuePool (duckdb-engine's choice) sized by the settings like any
            # other; ":memory:" keeps duckdb-engine's SingletonThreadPool. Nothing to ping.
            duck_pool: dict[str, Any] = {}
            if settings is not None and (url.database or ":memory:") != ":memory:":
                duck_pool = {
                    "pool_size": settings.pool_size,
                    "max_overflow": settings.max_overflow,
                    "pool_timeout": settings.timeout,
                }
            return create_engine(url, connect_args=connect_args, **duck_pool)
        options: dict[str, Any] = {"pool_pre_ping": True}
        # pre-ping: a pooled connection the server closed overnight is replaced, not used.
        if backend == "postgresql" and "application_name" not in url.query:
            connect_args["application_name"] = "ordo"  # visible in pg_stat_activity
        if settings is not None:
            options.update(
                pool_size=settings.pool_size,
                max_overflow=settings.max_overflow,
                pool_timeout=settings.timeout,
            )
            timeout_arg = _CONNECT_TIMEOUT_ARG.get(backend)
            if timeout_arg is not None:
                connect_args[timeout_arg] = max(1, int(settings.timeout))
        engine = create_engine(url, connect_args=connect_args, **options)
        statement = _READ_ONLY_SQL.get(backend)
        if read_only and statement is not None:
            event.listen(engine, "connect", _run_on_connect(statement))
        return engine


# The driver argument that bounds how long a connect may wait for an answer.
_CONNECT_TIMEOUT_ARG = {
    "postgresql": "connect_timeout",
    "mysql": "connect_timeout",
    "oracle": "tcp_connect_timeout",
    "mssql": "login_timeout",
}
# Session settings that make the server refuse writes. Oracle and SQL Server have no session
# switch for it: a read-only connection there relies on the database user's grants.
_READ_ONLY_SQL = {
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
}


def _run_on_connect(statement: str) -> Any:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()
        if hasattr(dbapi_connection, "commit") and statement.startswith("SET"):
            dbapi_connection.commit()

    return on_connect


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Stop sqlite3 from issuing BEGIN/COMMIT on its own guesses; _sqlite_begin takes over.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    conn.exec_driver_sql("BEGIN")
