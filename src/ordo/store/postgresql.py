"""The state store in PostgreSQL, for a team or several machines: ``ORDO_STATE_URL``.

The tables go into the first schema of the connection's ``search_path``, so
``postgresql://host/db?options=-csearch_path%3Dordo`` keeps them in schema ``ordo``.

The store's session runs with ``synchronous_commit = off``: a commit returns without waiting
for the WAL flush, so a step's writes cost a network round trip rather than a disk flush too.
A server crash may lose the last fraction of a second of run history, never consistency; the
record that must survive a crash (the ledger of committed units) lives in the target
database, in the same transaction as the work, not here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, create_engine, event
from sqlalchemy.pool import NullPool

from ordo.config.url import require_driver
from ordo.masking import Masker
from ordo.store.relational import SqlStore
from ordo.store.schema import MIGRATIONS

__all__ = ["PostgresStore"]

CONNECT_TIMEOUT = 10  # seconds


class PostgresStore(SqlStore):
    """``StateStore`` in the PostgreSQL database at ``url`` (``postgresql+psycopg://``)."""

    def __init__(self, url: URL, *, masker: Masker | None = None) -> None:
        require_driver(url)
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in url.query:
            connect_args["application_name"] = "ordo-state"  # seen in pg_stat_activity
        # NullPool: the store holds its one connection itself; nothing idles in a pool.
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        event.listen(engine, "connect", _on_connect)
        where = url.render_as_string(hide_password=True)
        super().__init__(engine, MIGRATIONS / "postgresql", where=where, masker=masker or Masker())


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    dbapi_connection.commit()
