"""One SQLAlchemy engine per database URL per process, configured the way ordo needs.

An engine owns a connection pool; making one per step would open a connection per step and
lose pooling. The registry hands out the same engine for the same URL, from any thread, and
closes them all at the end of a run.

What each backend needs over SQLAlchemy's defaults (SQLite's own ``BEGIN``, a short busy
timeout, pool sizes, connect timeouts, the read-only switch) is the dialect's to say:
``Dialect.engine_options`` and ``Dialect.install_events``.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.engine import make_url

from ordo.config.url import require_driver
from ordo.db.dialects import dialect_for

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
        """An engine configured by the backend's dialect (options, then connection events)."""
        dialect = dialect_for(url.drivername)
        options = dialect.engine_options(url, settings, busy_timeout=self._sqlite_busy_timeout)
        engine = create_engine(url, **options)
        dialect.install_events(engine, read_only=settings is not None and settings.read_only)
        return engine
