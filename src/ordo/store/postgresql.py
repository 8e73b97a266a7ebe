"""The state store in PostgreSQL, for a team or several machines: ``ORDO_STATE_URL``.

The store lives in a schema of its own, so its tables (``tasks``, ``job_runs``, ...) never
meet a user's: ``ORDO_STATE_SCHEMA`` when set, else the schema a ``search_path`` in the URL's
``options`` names (``?options=-csearch_path%3Dhistory``, as earlier versions documented),
else ``ordo``. Every connection of the store sets its ``search_path`` to that schema alone.

Setting the store up is one transaction (``schema_setup``): create the schema if missing,
move a store that an earlier ordo made in the URL's own schema (``public``, mostly), apply
the pending migrations. DDL is transactional on PostgreSQL, so a set-up that fails (no CREATE
permission, a migration that breaks) leaves nothing behind, not even the history table.

The store's session runs with ``synchronous_commit = off``: a commit returns without waiting
for the WAL flush, so a step's writes cost a network round trip rather than a disk flush too.
A server crash may lose the last fraction of a second of run history, never consistency; the
record that must survive a crash (the ledger of committed units) lives in the target
database, in the same transaction as the work, not here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import URL, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ordo.config.url import require_driver
from ordo.db.errors import translate
from ordo.errors import ConfigError
from ordo.masking import Masker
from ordo.store.base import StoreError
from ordo.store.relational import SqlStore
from ordo.store.schema import MIGRATIONS
from ordo.store.schema_setup import set_up

__all__ = ["DEFAULT_SCHEMA", "PostgresStore", "check_schema_name"]

CONNECT_TIMEOUT = 10  # seconds
DEFAULT_SCHEMA = "ordo"
_MAX_NAME_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1: a longer name would be cut short
# "-c search_path=x", "-csearch_path=x" or "--search_path=x" in libpq's options.
_OPTIONS_SEARCH_PATH = re.compile(
    r'(?:^|\s)(?:-c\s*|--)search_path\s*=\s*(?P<first>"(?:[^"]|"")+"|[^\s,"]+)'
)


class PostgresStore(SqlStore):
    """``StateStore`` in the PostgreSQL database at ``url`` (``postgresql+psycopg://``), in
    schema ``schema`` (default: the URL's ``search_path`` option, else ``ordo``)."""

    def __init__(
        self, url: URL, *, masker: Masker | None = None, schema: str | None = None
    ) -> None:
        require_driver(url)
        self.schema = check_schema_name(schema or schema_in_options(url) or DEFAULT_SCHEMA)
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in url.query:
            connect_args["application_name"] = "ordo-state"  # seen in pg_stat_activity
        # NullPool: the store holds its one connection itself; nothing idles in a pool.
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        search_path = engine.dialect.identifier_preparer.quote_identifier(self.schema)
        event.listen(engine, "connect", lambda dbapi, _record: _on_connect(dbapi, search_path))
        where = f"{url.render_as_string(hide_password=True)} (schema {self.schema})"
        super().__init__(engine, MIGRATIONS / "postgresql", where=where, masker=masker or Masker())

    def _set_up(self, migrations: Path) -> None:
        try:
            with self.engine.connect() as conn, conn.begin():
                set_up(conn, self.schema, migrations)
        except SQLAlchemyError as exc:
            if getattr(getattr(exc, "orig", None), "sqlstate", None) == _NO_PERMISSION:
                raise self._no_permission(exc) from exc
            raise

    def _no_permission(self, exc: SQLAlchemyError) -> StoreError:
        user = self.engine.url.username or "the store's user"
        quoted = self.engine.dialect.identifier_preparer.quote(self.schema)
        reason = translate(exc, masker=self._masker).message
        return StoreError(
            f"cannot set up the state store at {self.where}: {reason}",
            hint=f"have someone allowed create the schema once (CREATE SCHEMA {quoted} "
            f"AUTHORIZATION {user}), or set ORDO_STATE_SCHEMA to a schema {user} owns",
        )


_NO_PERMISSION = "42501"  # insufficient_privilege


def schema_in_options(url: URL) -> str | None:
    """The first schema of a ``search_path`` set in the URL's ``options``, if any."""
    options = url.query.get("options")
    text = " ".join(options) if isinstance(options, tuple) else options
    found = _OPTIONS_SEARCH_PATH.search(text or "")
    if found is None:
        return None
    first = found["first"]
    if first.startswith('"'):
        first = first[1:-1].replace('""', '"')
    return None if first.startswith("$") else first  # $user, quoted or not: no schema of its own


def check_schema_name(name: str) -> str:
    """``name`` when PostgreSQL can hold a schema by that exact name; ``ConfigError`` if not."""
    if not name.strip() or len(name.encode()) > _MAX_NAME_BYTES or name.startswith("pg_"):
        raise ConfigError(
            f"'{name}' cannot name the state store's schema",
            hint=f"set ORDO_STATE_SCHEMA to a name of 1 to {_MAX_NAME_BYTES} bytes that does "
            "not start with pg_ (default: ordo)",
        )
    return name


def _on_connect(dbapi_connection: Any, search_path: str) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('search_path', %s, false), "
            "set_config('synchronous_commit', 'off', false)",
            (search_path,),
        )
    dbapi_connection.commit()
