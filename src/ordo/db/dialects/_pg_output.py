"""PostgreSQL output files: ``COPY ... TO STDOUT`` for CSV, a server-side cursor otherwise.

Fetching rows into Python and writing them again costs about 4 s per million rows; ``COPY``
hands over CSV the server wrote, at the speed of ``psql \\copy``. The values must still read
as they do on every other database (``ordo.tabular``), so the query is described first
(``LIMIT 0``, inside a savepoint) and wrapped in a ``SELECT`` that writes the few types
whose PostgreSQL text differs: booleans as ``true``/``false``, timestamps with a ``T``,
bytea as plain hex. Intervals come out as ISO 8601 and dates as ISO through the
``intervalstyle`` and ``datestyle`` settings, set for this statement only. Arrays keep
PostgreSQL's literal form and json/jsonb their JSON text, which is what ``COPY`` writes.

A statement that ``COPY`` cannot take (anything but a plain query) and every JSON output go
through a psycopg cursor instead: a named (server-side) cursor for a query, fetching
``batch`` rows at a time; the plain cursor for ``INSERT ... RETURNING`` and the like. There
json/jsonb and intervals are loaded as the server's text, and for CSV arrays too.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from ordo.tabular import JsonText, TableWriter

__all__ = ["write_result"]

_BOOL, _BYTEA, _JSON, _JSONB, _TIMESTAMP, _TIMESTAMPTZ, _INTERVAL = (
    16,
    17,
    114,
    3802,
    1114,
    1184,
    1186,
)
_SETTINGS = {"intervalstyle": "iso_8601", "datestyle": "ISO, YMD", "bytea_output": "hex"}

# What starts a plain query, after comments and opening parentheses; a query naming a
# data-changing word (or INTO) anywhere takes the cursor path, which runs everything.
_LEADING = re.compile(r"(\s+|--[^\n]*|/\*.*?\*/|\()*", re.DOTALL)
_QUERY = re.compile(r"(select|values|table|with)\b", re.IGNORECASE)
_CHANGES = re.compile(r"\b(insert|update|delete|merge|into)\b", re.IGNORECASE)
_TRAILING = re.compile(r"(\s|;)+$")


def write_result(dbapi_connection: Any, sql: str, writer: TableWriter, *, batch: int) -> int | None:
    """Run ``sql`` on the psycopg connection (in its transaction) and stream it to ``writer``.

    A statement that returns no rows never starts the writer: its row count is returned.
    On a connection in autocommit (a ``transaction: false`` step) the statement gets a
    transaction of its own: the savepoint, the cursor and the ``LOCAL`` settings need one."""
    query = _is_query(sql)
    own = dbapi_connection.transaction() if dbapi_connection.autocommit else nullcontext()
    with own, _settings(dbapi_connection):
        if query and writer.fmt == "csv" and _copy(dbapi_connection, sql, writer):
            return None
        return _fetch(dbapi_connection, sql, writer, batch=batch, server_side=query)


def _is_query(sql: str) -> bool:
    start = _LEADING.match(sql)
    rest = sql[start.end() if start else 0 :]
    return bool(_QUERY.match(rest)) and not _CHANGES.search(sql)


@contextmanager
def _settings(conn: Any) -> Iterator[None]:
    """The output settings for the statement, the previous ones back afterwards (``LOCAL``:
    they cannot outlive the transaction; after an error its rollback undoes them)."""
    with conn.cursor() as cur:
        cur.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in _SETTINGS))
        previous = cur.fetchone()
        for name, value in _SETTINGS.items():
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))
    yield
    with conn.cursor() as cur:
        for name, value in zip(_SETTINGS, previous, strict=True):
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))


def _copy(conn: Any, sql: str, writer: TableWriter) -> bool:
    """``COPY`` the query as CSV; ``False`` if it cannot be described as a subquery."""
    import psycopg  # deferred: an extra, only when PostgreSQL is used

    body = _TRAILING.sub("", sql)
    with conn.cursor() as cur:
        cur.execute("SAVEPOINT ordo_output")
        try:
            cur.execute(f"SELECT * FROM ({body}\n) AS ordo_q LIMIT 0")
        except psycopg.Error:
            cur.execute("ROLLBACK TO SAVEPOINT ordo_output")  # the cursor path tells why
            return False
        columns = [(c.name, c.type_code) for c in cur.description or ()]
        cur.execute("RELEASE SAVEPOINT ordo_output")
        writer.start([name for name, _ in columns], header=False)
        select = ", ".join(_shown(name, oid) for name, oid in columns)
        null = "'" + writer.null_marker.replace("'", "''") + "'"
        statement = (
            f"COPY (SELECT {select} FROM ({body}\n) AS ordo_q) TO STDOUT "
            f"WITH (FORMAT csv, HEADER, NULL {null}, ENCODING 'UTF8')"
        )
    writer.count = _copy_out(conn, statement, writer.out.write)
    return True


_BLOCK = 1 << 20


def _copy_out(conn: Any, statement: str, write: Any) -> int:
    """``COPY ... TO STDOUT`` on libpq directly; the row count.

    ``COPY`` sends one message per row, so the loop over them is what costs: psycopg's own
    ``cursor.copy()`` iterator takes about 1.6 times as long as this bare loop over
    ``PQgetCopyData``. The connection is the caller's, in its transaction; an error the server
    reports ends the loop and is raised as psycopg raises it.
    """
    from psycopg import errors, pq  # deferred: an extra, only when PostgreSQL is used

    pgconn = conn.pgconn
    encoding = conn.info.encoding
    pgconn.send_query(statement.encode(encoding))
    result = pgconn.get_result()
    if result is None or result.status != pq.ExecStatus.COPY_OUT:
        _drain(pgconn)
        if result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=encoding)
        raise errors.InternalError("COPY did not start")
    get = pgconn.get_copy_data
    block = bytearray()  # rows gathered and written a mebibyte at a time: a write per row
    while True:  # cost a third of the loop
        size, data = get(0)  # blocks until a row comes; -1 at the end, -2 on error
        if size < 0:
            break
        block += data
        if len(block) > _BLOCK:
            write(block)
            block = bytearray()
    if block:
        write(block)
    result = pgconn.get_result()
    _drain(pgconn)
    if result is None or result.status != pq.ExecStatus.COMMAND_OK:
        if result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=encoding)
        raise errors.OperationalError(pgconn.get_error_message(encoding))
    return int(result.command_tuples or 0)


def _drain(pgconn: Any) -> None:
    while pgconn.get_result() is not None:
        pass


def _shown(name: str, oid: int) -> str:
    column = '"' + name.replace('"', '""') + '"'
    ref = f"ordo_q.{column}"
    if oid == _BOOL:
        value = f"CASE WHEN {ref} THEN 'true' WHEN NOT {ref} THEN 'false' END"
    elif oid in (_TIMESTAMP, _TIMESTAMPTZ):
        value = f"replace({ref}::text, ' ', 'T')"
    elif oid == _BYTEA:
        value = f"encode({ref}, 'hex')"
    else:
        return f"{ref} AS {column}"
    return f"{value} AS {column}"


def _fetch(
    conn: Any, sql: str, writer: TableWriter, *, batch: int, server_side: bool
) -> int | None:
    from psycopg.types.string import TextLoader  # deferred: an extra

    class JsonTextLoader(TextLoader):
        def load(self, data: Any) -> JsonText:
            return JsonText(super().load(data))

    name = f"ordo_output_{secrets.token_hex(4)}" if server_side else None
    with conn.cursor(name=name) if name else conn.cursor() as cur:
        cur.adapters.register_loader(_JSON, JsonTextLoader)
        cur.adapters.register_loader(_JSONB, JsonTextLoader)
        cur.adapters.register_loader(_INTERVAL, TextLoader)
        if writer.fmt == "csv":
            for oid in _array_oids(conn):
                cur.adapters.register_loader(oid, TextLoader)
        cur.execute(sql)
        if cur.description is None:
            rowcount: int = cur.rowcount
            return rowcount if rowcount >= 0 else None
        writer.start([c.name for c in cur.description])
        while rows := cur.fetchmany(batch):
            writer.rows(rows)
    return None


def _array_oids(conn: Any) -> list[int]:
    """The array types psycopg knows (built in, or registered on this connection)."""
    return [info.array_oid for info in conn.adapters.types if getattr(info, "array_oid", 0)]
