"""Setting up the PostgreSQL state store in its own schema, in the caller's one transaction.

Under a transaction-level advisory lock (two processes opening a new store at once: the
second waits, then finds it made), in this order:

1. the schema is created if it does not exist (checked first: ``CREATE SCHEMA IF NOT EXISTS``
   needs CREATE on the database even when the schema is there);
2. a store that an earlier ordo made in the URL's own schema (``public``, mostly) is moved
   into it, whole and with its history, when the schema holds no store yet (``_adopt``);
3. the pending migrations run (``Migrator.migrate_on``).

The caller commits or rolls back all of it: a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, bindparam, func, select, text

from ordo.migrations import Migrator
from ordo.migrations.locks import advisory_key
from ordo.store.schema import HISTORY_TABLE, metadata

__all__ = ["LOCK_TIMEOUT_MS", "set_up"]

LOCK_TIMEOUT_MS = 60_000  # waiting for another process's set-up, or a lock a migration needs

_STORE_TABLES = frozenset(metadata.tables)
_TABLES_IN = text(
    "SELECT c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND c.relname IN :names"
).bindparams(bindparam("names", expanding=True))
_SCHEMA_EXISTS = text("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = :schema")


def set_up(conn: Connection, schema: str, migrations: Path) -> None:
    """Make ``schema`` hold an up-to-date store; ``conn`` is in a transaction, its
    ``search_path`` already ``schema`` alone."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    database = conn.execute(select(func.current_database())).scalar_one()
    conn.execute(select(func.set_config("lock_timeout", str(LOCK_TIMEOUT_MS), True)))
    conn.execute(select(func.pg_advisory_xact_lock(advisory_key(database, schema, HISTORY_TABLE))))
    if conn.execute(_SCHEMA_EXISTS, {"schema": schema}).first() is None:
        conn.exec_driver_sql(f"CREATE SCHEMA {quote(schema)}")
    if HISTORY_TABLE not in _tables(conn, schema, {HISTORY_TABLE}):
        _adopt(conn, schema)
    Migrator(conn.engine, migrations, table=HISTORY_TABLE, installed_by="ordo").migrate_on(conn)


def _adopt(conn: Connection, schema: str) -> None:
    """Move the store an earlier ordo made in the URL's own schema into ``schema``.

    Earlier versions created the tables unqualified, so they sit in the first schema of the
    search_path the URL and the role give (``public`` unless configured). Moving them keeps
    every run's history and frees those names for the user's own tables; ``ALTER TABLE ...
    SET SCHEMA`` takes indexes and constraints along and copies no row. An empty history
    table is what a failed set-up of an earlier ordo left behind (V1 and its history row
    commit together, so any tables beside it are the user's): it is dropped. Anything else
    is left as found.
    """
    old = _url_schema(conn)
    if old is None or old == schema:
        return
    quote = conn.dialect.identifier_preparer.quote_identifier
    found = _tables(conn, old, {*_STORE_TABLES, HISTORY_TABLE})
    if HISTORY_TABLE not in found:
        return
    history = f"{quote(old)}.{quote(HISTORY_TABLE)}"
    rows = conn.exec_driver_sql(f"SELECT count(*) FROM {history}").scalar_one()
    if rows and found >= _STORE_TABLES:
        for table in sorted(found):
            conn.exec_driver_sql(
                f"ALTER TABLE {quote(old)}.{quote(table)} SET SCHEMA {quote(schema)}"
            )
    elif not rows:
        conn.exec_driver_sql(f"DROP TABLE {history}")


def _url_schema(conn: Connection) -> str | None:
    """The schema unqualified names went to before the store set its own ``search_path``:
    the first existing one of the session's default search_path (from the URL's options,
    the role's and the database's settings). The store's own path is back afterwards."""
    ours = conn.execute(select(func.current_setting("search_path"))).scalar_one()
    conn.execute(text("SET LOCAL search_path TO DEFAULT"))
    old: str | None = conn.execute(select(func.current_schema())).scalar()
    conn.execute(select(func.set_config("search_path", ours, True)))
    return old


def _tables(conn: Connection, schema: str, names: set[str]) -> set[str]:
    rows = conn.execute(_TABLES_IN, {"schema": schema, "names": sorted(names)})
    return {str(name) for (name,) in rows}
