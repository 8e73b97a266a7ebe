"""Opening a connection: a failure says which connection, where, why, and what to do.

A driver's connect error names neither the connection nor the setting to fix ("FATAL: role
"x" does not exist", "[Errno -2] Name or service not known"). Every place ordo opens a
connection for a run goes through ``connecting``, so the user reads one shape of message::

    cannot connect to 'default' (postgresql+psycopg://app:***@db:5432/sales): REASON
    (hint: check the user name and password in DATABASE_URL)

The reason is judged here, once for every backend, from the driver's error code where it has
one (MySQL/MariaDB numbers) and from the words the servers and resolvers use (psycopg gives
connect failures no SQLSTATE). Only the reasons a hint can help with are told apart; anything
else keeps the driver's first line and the dialect's transient/permanent judgement. A refused
connection stays transient (a server that is restarting); a wrong password, a missing database
or an unknown host are permanent: retrying them only delays the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Any

from ordo.db.errors import classify, describe, is_database_error
from ordo.errors import (
    CannotConnect,
    ErrorKind,
    OrdoError,
    PermanentCannotConnect,
    TransientCannotConnect,
)
from ordo.masking import Masker

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from ordo.config.connections import ConnectionSettings

__all__ = [
    "ConnectReason",
    "cannot_connect",
    "connect",
    "connect_reason",
    "connecting",
    "lock_message",
]


class ConnectReason(Enum):
    AUTH = "auth"  # wrong password, unknown user, no access
    REFUSED = "refused"  # nothing listens on host:port
    NO_DATABASE = "no database"
    UNKNOWN_HOST = "unknown host"
    LOCKED = "locked"  # a DuckDB file that another process holds
    OTHER = "other"


# MySQL/MariaDB client and server error numbers (PyMySQL's ``args[0]``).
_MYSQL_CODES = {
    1044: ConnectReason.AUTH,  # access denied to the database for this user
    1045: ConnectReason.AUTH,  # access denied (password)
    1698: ConnectReason.AUTH,  # access denied (auth plugin)
    1049: ConnectReason.NO_DATABASE,
    2005: ConnectReason.UNKNOWN_HOST,
}
# Words in the message, checked in this order: the first that matches decides.
_WORDS: tuple[tuple[re.Pattern[str], ConnectReason], ...] = (
    (re.compile(r"database \S+ does not exist|unknown database", re.I), ConnectReason.NO_DATABASE),
    (
        re.compile(
            r"password authentication failed|role \S+ does not exist|access denied|"
            r"authentication failed|no pg_hba\.conf entry|login failed",
            re.I,
        ),
        ConnectReason.AUTH,
    ),
    (
        re.compile(
            r"failed to resolve host|name or service not known|nodename nor servname|"
            r"temporary failure in name resolution|unknown (mysql )?server host|"
            r"could not translate host name|getaddrinfo failed|no address associated",
            re.I,
        ),
        ConnectReason.UNKNOWN_HOST,
    ),
    (re.compile(r"connection refused|errno 111\b|\[errno 61\]", re.I), ConnectReason.REFUSED),
    (re.compile(r"could not set lock on file", re.I), ConnectReason.LOCKED),
)
# DuckDB: 'Could not set lock on file "F": Conflicting lock is held in PROGRAM (PID N). See ...'
_DUCKDB_LOCK = re.compile(
    r'could not set lock on file "(?P<file>[^"]+)": conflicting lock is held in '
    r"(?P<program>.*?)(?: \(PID (?P<pid>\d+)\))?(?:\. |\.?$)",
    re.I,
)
# "connection to server at "127.0.0.1", port 5999 failed: " repeats what the URL says.
_PG_PREFIX = re.compile(r'^(connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: )+')
_FATAL = re.compile(r"^FATAL:\s+")
_TEMPORARY = re.compile(r"temporary failure in name resolution", re.I)


def connect_reason(exc: BaseException) -> ConnectReason:
    """Why connecting failed, as far as a hint can help (``OTHER`` when no rule fits)."""
    orig: Any = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_CODES:
        return _MYSQL_CODES[args[0]]
    text = " ".join(str(e) for e in _chain(orig))
    for pattern, reason in _WORDS:
        if pattern.search(text):
            return reason
    return ConnectReason.OTHER


def cannot_connect(
    exc: BaseException, settings: ConnectionSettings, masker: Masker | None = None
) -> CannotConnect:
    """The ordo error for a failed connect to ``settings``; raise it ``from exc``."""
    masker = masker or Masker()
    reason = connect_reason(exc)
    text = _FATAL.sub("", _PG_PREFIX.sub("", describe(exc)))
    if reason is ConnectReason.LOCKED:
        text = lock_message(text)
    message = masker.mask(
        f"cannot connect to '{settings.name}' ({settings.masked_url}): {text or type(exc).__name__}"
    )
    hint = _hint(reason, settings)
    if reason is ConnectReason.REFUSED or (
        reason is ConnectReason.UNKNOWN_HOST and _TEMPORARY.search(str(exc))
    ):
        return TransientCannotConnect(message, hint=hint)
    if reason is ConnectReason.OTHER and classify(exc) is ErrorKind.TRANSIENT:
        return TransientCannotConnect(message, hint=hint)
    return PermanentCannotConnect(message, hint=hint)


@contextmanager
def connecting(settings: ConnectionSettings, masker: Masker | None = None) -> Iterator[None]:
    """Around opening a connection to ``settings``: a database error leaves as ``CannotConnect``.

    Errors that are not a database's (a bug) and ordo's own pass unchanged.
    """
    try:
        yield
    except Exception as exc:
        if isinstance(exc, OrdoError) or not is_database_error(exc):
            raise
        raise cannot_connect(exc, settings, masker) from exc


def connect(
    engine: Engine, settings: ConnectionSettings, masker: Masker | None = None
) -> Connection:
    """``engine.connect()`` for ``settings``, failing as ``CannotConnect``."""
    with connecting(settings, masker):
        return engine.connect()


def lock_message(text: str) -> str:
    """DuckDB's lock message as one line that names the file and the process holding it."""
    found = _DUCKDB_LOCK.search(text)
    if found is None:
        return text
    program = found["program"].rsplit("/", 1)[-1] or "another program"
    pid = f" (PID {found['pid']})" if found["pid"] else ""
    return f"the file {found['file']} is locked by another process: {program}{pid}"


def _hint(reason: ConnectReason, settings: ConnectionSettings) -> str:
    url, where = settings.url, settings.source
    host = url.host or "localhost"
    match reason:
        case ConnectReason.AUTH:
            user = f" of user '{url.username}'" if url.username else ""
            return f"check the user name and password{user} in {where}"
        case ConnectReason.REFUSED:
            port = f":{url.port}" if url.port else " (default port)"
            return f"is the server running on {host}{port}? Check the host and port in {where}"
        case ConnectReason.NO_DATABASE:
            return f"create the database '{url.database}', or fix its name in {where}"
        case ConnectReason.UNKNOWN_HOST:
            return f"check the host name '{host}' in {where}"
        case ConnectReason.LOCKED:
            return (
                "DuckDB lets one process at a time open a file for writing: close that "
                "program's connection to it (an IDE, a notebook, another run), then run again"
            )
        case _:
            return f"check that the server is reachable and the settings in {where} are right"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its causes: a resolver's error may hide under the driver's."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
