"""The run's connections: one per running unit, idle ones kept for reuse; and cancelling."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from ordo.db.connect import connect
from ordo.db.dialects import dialect_for
from ordo.errors import TransientError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ordo.config import Settings
    from ordo.db.dialects import Dialect
    from ordo.db.engines import EngineRegistry
    from ordo.masking import Masker

__all__ = ["Cancellers", "Connections", "cancel_statement"]


class Connections:
    """The run's connections: each running unit has one of its own, idle ones wait for reuse."""

    def __init__(
        self,
        settings: Settings,
        engines: EngineRegistry,
        masker: Masker,
        exclusive: Collection[str],
    ) -> None:
        self.settings = settings
        self.engines = engines
        self.masker = masker
        self.exclusive = exclusive
        self._idle: dict[str, list[tuple[Connection, Dialect]]] = {}
        self._lock = threading.Lock()

    def checkout(self, name: str) -> tuple[Connection, Dialect]:
        """An idle connection of this run, or a new one from the pool (``CannotConnect`` if
        none can be opened)."""
        with self._lock:
            idle = self._idle.get(name)
            if idle:
                return idle.pop()

        settings = self.settings.connection(name)
        conn = connect(self.engines.for_connection(settings), settings, self.masker)
        return conn, dialect_for(conn)

    def checkin(
        self, name: str, conn: Connection, dialect: Dialect, failed: BaseException | None
    ) -> None:
        """Keep a connection for the next unit; after a failure, give it up so a retry starts
        on a clean one (after a transient failure it may be broken: it goes, not to the pool)."""
        if failed is None:
            with self._lock:
                self._idle.setdefault(name, []).append((conn, dialect))
            return
        try:
            if isinstance(failed, TransientError):
                conn.invalidate()
            conn.close()
        except Exception:
            conn.invalidate()

    def release_exclusive(self) -> None:
        """Let go of databases that lock out other processes, before a unit works outside.

        No unit runs on them now (``Lanes`` sees to it), so nothing is lost; a python script
        connecting to the run's DuckDB file could not open it otherwise. The next SQL unit
        reconnects.
        """
        for name in self.exclusive:
            with self._lock:
                idle = self._idle.pop(name, [])
            for conn, _dialect in idle:
                conn.close()
            # Always: the pool may hold a connection opened before the run (the ledger check).
            engine = self.engines.for_connection(self.settings.connection(name))
            engine.dispose()  # the pool would keep the file open

    def close(self) -> None:
        with self._lock:
            idle = [entry for entries in self._idle.values() for entry in entries]
            self._idle.clear()
        for conn, _dialect in idle:
            try:
                conn.close()
            except Exception:
                conn.invalidate()


class Cancellers:
    """How to stop what each running unit does, called from the scheduler's thread on abort."""

    def __init__(self, aborted: threading.Event) -> None:
        self.aborted = aborted
        self._by_unit: dict[str, list[Callable[[], None]]] = {}
        self._lock = threading.Lock()

    def add(self, unit: str, cancel: Callable[[], None]) -> None:
        with self._lock:
            self._by_unit.setdefault(unit, []).append(cancel)
        if self.aborted.is_set():  # registered after the abort went round
            cancel()

    def drop(self, unit: str) -> None:
        with self._lock:
            self._by_unit.pop(unit, None)

    def cancel_all(self) -> None:
        with self._lock:
            everything = [cancel for cancels in self._by_unit.values() for cancel in cancels]
        for cancel in everything:
            with contextlib.suppress(Exception):  # what it stops may have ended meanwhile
                cancel()


def cancel_statement(conn: Connection, dialect: Dialect) -> None:
    """Interrupt what runs on ``conn``, from another thread, as far as the driver can."""
    dbapi: Any = conn.connection.dbapi_connection
    try:
        dialect.cancel(dbapi)
    except NotImplementedError:
        cancel = getattr(dbapi, "cancel_safe", None) or getattr(dbapi, "cancel", None)
        if cancel is not None:  # psycopg; PyMySQL has none: its unit rolls back at its end
            cancel()
