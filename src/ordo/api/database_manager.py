"""``DatabaseManager``: a program's own queries over one named connection.

One engine per connection name per process, shared by every manager and thread that asks for
that name, so pooling works across a program's tasks; a caller that wants engines of its own
(a test, a server with several tenants) passes an ``EngineRegistry`` as ``engines=``.
Parameters are always bound, never formatted into the SQL, and only ``:name`` in code is one
(``ordo.db.parameters``). Reads are retried on transient
failures with backoff; a write is never retried outside its transaction, because a lost answer
does not mean a lost write.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, CursorResult, TextClause
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ordo.api import health
from ordo.config import Settings
from ordo.db.dialects import dialect_for
from ordo.db.engines import EngineRegistry
from ordo.db.errors import database_errors
from ordo.db.parameters import bound_text
from ordo.errors import TransientError
from ordo.migrations.migrator import Migrator
from ordo.project import Project
from ordo.tabular import TabularResult

if TYPE_CHECKING:
    from ordo.config.connections import ConnectionSettings

__all__ = ["DatabaseManager"]

_READ = re.compile(
    r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(select|show|explain|describe|values)\b",
    re.IGNORECASE | re.DOTALL,
)
_ENGINES = EngineRegistry()  # the process's engines, one per connection name (the default)
_USERS: dict[str, int] = {}  # managers open per engine of _ENGINES; the last one disposes it
_USERS_LOCK = threading.Lock()
_RETRIES = 3


class DatabaseManager:
    """Queries, transactions, migrations and health for the connection called ``database_name``.

    Settings are found as ``ordo run`` finds them (``Settings.load``): env files of the project
    (``project``, else ``ORDO_PROJECT`` in ``environ`` as set for python steps, else the current
    folder) and ``environ`` (default: the real environment); or pass ``settings``.

    Engines come from the process-wide registry, whose pool closes when the last manager of a
    connection is closed; from ``engines`` when given, whose owner disposes them (a manager
    closing leaves an injected registry's engines alone).
    """

    def __init__(
        self,
        database_name: str = "default",
        *,
        project: Path | str | None = None,
        env_file: Path | str | None = None,
        environ: Mapping[str, str] | None = None,
        settings: Settings | None = None,
        engines: EngineRegistry | None = None,
    ) -> None:
        if settings is None:
            root = Project.at(project).root if project else None
            settings = Settings.load(
                root, env_file=Path(env_file) if env_file else None, environ=environ
            )
        self._settings = settings
        self.connection: ConnectionSettings = settings.connection(database_name)
        self.database_name = self.connection.name
        self.masker = settings.masker()
        self._shared = engines is None
        self.engine = (_ENGINES if engines is None else engines).for_connection(self.connection)
        health.watch_invalidations(self.engine)  # so get_pool_status counts from the start
        self.dialect = dialect_for(self.engine)
        self._closed = False
        if self._shared:
            with _USERS_LOCK:
                _USERS[self._key] = _USERS.get(self._key, 0) + 1

    @property
    def _key(self) -> str:
        return f"{self.connection.name}|{self.connection.url.render_as_string(hide_password=False)}"

    # -- queries ---------------------------------------------------------------------------

    def execute_query(
        self, query: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One statement with bound ``:name`` parameters; rows as dicts; writes committed."""
        return self.fetch(query, params).records()

    def execute_query_with_timeout(
        self, query: str, params: Mapping[str, Any] | None = None, timeout: float = 30
    ) -> list[dict[str, Any]]:
        """As ``execute_query``, cancelled at the server after ``timeout`` seconds.

        Raises ``StepTimeout`` when cancelled; the connection goes back to the pool usable.
        """
        return self.fetch(query, params, timeout=timeout).records()

    def fetch(
        self, query: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> TabularResult:
        """The statement's columns and rows, in order (what ``ordo db query`` prints)."""
        return self._run(query, params, timeout=timeout)

    def execute_transaction(
        self, queries: Sequence[tuple[str, Mapping[str, Any] | None]]
    ) -> list[dict[str, Any]]:
        """Run statements in one transaction, all or nothing; one result dict per statement.

        Each result has ``rowcount`` and ``rows`` (a list of dicts, empty for a statement that
        returns none). Never retried: the caller decides whether to run it again.
        """
        results: list[dict[str, Any]] = []
        with database_errors(masker=self.masker), self._connect() as conn, conn.begin():
            for query, params in queries:
                result = conn.execute(self._text(query), dict(params or {}))
                returns_rows = self._returns_rows(query, result)
                rows = [dict(r._mapping) for r in result] if returns_rows else []
                result.close()
                results.append({"rowcount": result.rowcount, "rows": rows})
        return results

    def _run(
        self, query: str, params: Mapping[str, Any] | None, timeout: float | None
    ) -> TabularResult:
        if not _READ.match(query):
            # A write: connecting is retried (nothing ran yet), the statement never is.
            return self._run_once(query, params, timeout, retry_connect=True)
        # A read: connect and statement retried together, at most _RETRIES attempts in all
        # (not _RETRIES connects per attempt, which against a dead host would multiply the
        # wait to _RETRIES squared connect timeouts).
        for attempt in Retrying(
            stop=stop_after_attempt(_RETRIES),
            wait=wait_exponential(multiplier=0.5, max=5),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        ):
            with attempt:
                return self._run_once(query, params, timeout, retry_connect=False)
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_once(
        self,
        query: str,
        params: Mapping[str, Any] | None,
        timeout: float | None,
        *,
        retry_connect: bool,
    ) -> TabularResult:
        conn = self._connect(retry=retry_connect)
        with (
            database_errors(masker=self.masker, timeout=timeout),
            conn,
            conn.begin(),
            self.dialect.statement_timeout(conn, timeout),
        ):
            result = conn.execute(self._text(query), dict(params or {}))
            if not self._returns_rows(query, result):
                result.close()
                return TabularResult((), [], rowcount=result.rowcount)
            return TabularResult(tuple(result.keys()), [tuple(r) for r in result])

    def _text(self, query: str) -> TextClause:
        """The statement with only its real ``:name`` parameters bound: a colon in a literal,
        a quoted name, a comment or a ``::`` cast is sent as written."""
        return bound_text(query, self.dialect.script_syntax)

    def _returns_rows(self, query: str, result: CursorResult[Any]) -> bool:
        """Whether the statement returned data, not just a status (DuckDB's ``Count`` row is
        not data, so an ``INSERT`` returns ``[]`` there as it does everywhere else)."""
        return self.dialect.returns_data(result, query)

    def _connect(self, *, retry: bool = True) -> Connection:
        """A pooled connection; connecting is retried on transient failures, as nothing ran yet."""
        for attempt in Retrying(
            stop=stop_after_attempt(_RETRIES if retry else 1),
            wait=wait_exponential(multiplier=0.5, max=5),
            retry=retry_if_exception_type(TransientError),
            reraise=True,
        ):
            with attempt, database_errors(masker=self.masker):
                return self.engine.connect()
        raise AssertionError("unreachable")  # pragma: no cover

    # -- migrations ------------------------------------------------------------------------

    def migrator(self) -> Migrator:
        return Migrator.for_connection(self.engine, self.connection, self._settings)

    def run_migrations(self, **options: Any) -> Any:
        """Apply pending migrations from the connection's folder (see ``Migrator.migrate``)."""
        return self.migrator().migrate(**options)

    def get_migration_status(self) -> dict[str, Any]:
        """``current_version`` and ``pending_migrations`` (file names), as a dictionary."""
        return health.migration_status(self.connection, self.migrator)

    # -- health ----------------------------------------------------------------------------

    def health_check(self, *, slow_ms: float = 1000.0) -> dict[str, Any]:
        """The health dictionary; never raises, returns within the connection's timeout."""
        return health.health_check(
            self.engine,
            self.connection,
            self.masker,
            self.get_migration_status,
            slow_ms=slow_ms,
        )

    def get_pool_status(self) -> dict[str, Any]:
        return health.pool_status(self.engine, self.database_name)

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Release this manager; a shared engine's pool closes when its last manager closes."""
        if self._closed:
            return
        self._closed = True
        if not self._shared:
            return
        with _USERS_LOCK:
            _USERS[self._key] -= 1
            last = _USERS[self._key] == 0
            if last:
                del _USERS[self._key]
        if last:
            self.engine.dispose()

    def __enter__(self) -> DatabaseManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DatabaseManager({self.database_name!r}, {self.connection.masked_url})"
