"""Driver errors become ordo errors here, in one place: transient, permanent, or timeout.

The runner retries ``TransientError`` and stops at ``PermanentError``; that decision is an
``isinstance`` check, so it has to be right where the error enters. Each backend's rules live
with its dialect (``Dialect.classify``, ``Dialect.describe``); this module finds the right
dialect from the driver that raised, and adds what holds for all of them.

Calling pattern, keeping the driver's error as ``__cause__`` for ``--debug``::

    with database_errors(masker=masker, timeout=step.timeout, step=step.name):
        with dialect.statement_timeout(conn, step.timeout):
            dialect.execute(conn, sql)

Only database errors are translated: SQLAlchemy's, a driver's (its module names a dialect),
and ``ConnectionError``/``TimeoutError`` from a socket. Anything else is a bug and goes on
unchanged, so that ``--debug`` shows its traceback instead of a one-line "step failed".

Pass the same ``timeout`` the statement ran under: a cancelled statement is a ``StepTimeout``
only when ordo's own timeout cancelled it. Messages are the driver's first line with its
error code, never SQLAlchemy's boilerplate, and pass through a ``Masker`` so no password
leaves (give one built with ``url_secrets`` to mask the configured password as well).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from ordo.db.dialects import ErrorKind, dialect_for_error
from ordo.errors import ExecutionError, OrdoError, PermanentError, StepTimeout, TransientError
from ordo.masking import Masker

__all__ = [
    "classify",
    "database_errors",
    "describe",
    "is_database_error",
    "statement_line",
    "translate",
]

_SA_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)", re.DOTALL)
_SA_SQL = re.compile(r"\s*\[(SQL|parameters): .*?\](?=\s*(\[|\(Background|$))", re.DOTALL)
_SA_PREFIX = re.compile(r"^\([\w.]+\)\s*")  # "(psycopg.errors.UndefinedTable) "
# Where a database says the error is: PostgreSQL and DuckDB "LINE 3:", MySQL "at line 3".
_LINE = re.compile(r"\bLINE (\d+):|\bat line (\d+)\b")


@contextmanager
def database_errors(
    *, masker: Masker | None, timeout: float | None = None, step: str | None = None
) -> Iterator[None]:
    """Where ordo enters a database: a database error leaves as an ordo error ``from`` it.

    ``OrdoError``s and every exception that is not a database error pass unchanged.
    """
    try:
        yield
    except Exception as exc:
        if isinstance(exc, OrdoError) or not is_database_error(exc):
            raise
        raise translate(exc, timeout=timeout, masker=masker, step=step) from exc


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from a database (SQLAlchemy, a known driver, a lost socket)."""
    if isinstance(exc, sa_exc.SQLAlchemyError | ConnectionError | TimeoutError):
        return True
    return dialect_for_error(exc) is not None


def translate(
    exc: BaseException,
    *,
    timeout: float | None = None,
    masker: Masker | None = None,
    step: str | None = None,
) -> ExecutionError:
    """The ordo error for ``exc``; the caller raises it ``from exc``.

    ``ExecutionError`` passes through unchanged. A ``sqlalchemy.exc.DBAPIError`` is judged by
    the driver error it wraps (``.orig``); a connection SQLAlchemy saw die is transient
    whatever the driver said. An exception that is not a database error (see
    ``is_database_error``) is not ordo's to judge: it raises ``TypeError`` from it, so a bug
    can never pass for a failing statement. Prefer ``database_errors``.
    """
    if isinstance(exc, ExecutionError):
        return exc
    if not is_database_error(exc):
        raise TypeError(f"not a database error: {type(exc).__name__}") from exc
    kind = classify(exc)
    message = (masker or Masker()).mask(_message(exc))
    if kind is ErrorKind.TIMEOUT:
        if timeout is not None:
            return StepTimeout(
                f"statement cancelled after the {timeout:g} s timeout: {message}",
                step=step,
                hint="raise the step's timeout or make the statement faster",
            )
        return PermanentError(f"statement cancelled: {message}", step=step)
    if kind is ErrorKind.TRANSIENT:
        return TransientError(message, step=step, hint="a transient failure: retrying may help")
    return PermanentError(message, step=step)


def classify(exc: BaseException) -> ErrorKind:
    """Transient, permanent or timeout for any exception met while talking to a database."""
    orig = _driver_error(exc)
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return ErrorKind.TRANSIENT
    dialect = dialect_for_error(orig)
    if dialect is not None:
        return dialect.classify(orig)
    if isinstance(orig, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return ErrorKind.TRANSIENT  # pool: dead connection, or no connection free in time
    if isinstance(orig, ConnectionError | TimeoutError):
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def statement_line(message: str) -> int | None:
    """The line of the statement that a database's error message points at, if it does."""
    found = _LINE.search(message)
    return int(found.group(1) or found.group(2)) if found else None


def describe(exc: BaseException) -> str:
    """The driver's own message for ``exc``: its first line and code, no SQLAlchemy text."""
    return _message(exc)


def _driver_error(exc: BaseException) -> BaseException:
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        return exc.orig
    return exc


def _message(exc: BaseException) -> str:
    orig = _driver_error(exc)
    dialect = dialect_for_error(orig)
    if dialect is not None:
        text = dialect.describe(orig)
    else:
        text = _SA_BACKGROUND.sub("", str(orig))
        text = _SA_PREFIX.sub("", _SA_SQL.sub("", text)).strip()
        text = text.splitlines()[0].strip() if text else type(orig).__name__
    return text or type(orig).__name__
