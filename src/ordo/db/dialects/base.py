"""What every backend shares: table names, literals, running one statement, timeouts.

A ``Dialect`` wraps SQLAlchemy's dialect for one backend and adds the few things ordo needs
that SQLAlchemy does not decide for us: how a name a user typed in a manifest maps to the
object their unquoted ``CREATE TABLE`` made, how to drop it if it exists, how to render a
value as a literal in a SQL template, how to cancel a statement that runs too long, and how
to tell a driver error worth retrying from one that is not. Subclasses override only what
their backend does differently; each lives in its own module.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import URL, Connection, CursorResult, Executable
from sqlalchemy.engine import Dialect as SADialect

from ordo.errors import ErrorKind  # re-exported: dialects classify into it

__all__ = [
    "Dialect",
    "ErrorKind",
    "NamePart",
    "StatementResult",
    "TableName",
    "cancel_after",
    "check_seconds",
    "first_line",
    "mro_names",
    "parse_table_name",
]

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$#]*")


@dataclass(frozen=True)
class NamePart:
    """One part of a table name as written: plain (folded by the dialect) or quoted (exact)."""

    text: str
    quoted: bool = False

    def __str__(self) -> str:
        return '"' + self.text.replace('"', '""') + '"' if self.quoted else self.text


@dataclass(frozen=True)
class TableName:
    """``[schema.]table`` as the user wrote it; ``Dialect.quote_table`` renders it for SQL."""

    table: NamePart
    schema: NamePart | None = None

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else str(self.table)


def parse_table_name(text: str) -> TableName:
    """Parse ``[schema.]table``; each part plain (``[A-Za-z_][A-Za-z0-9_$#]*``) or ``"quoted"``.

    Inside a quoted part ``""`` stands for one ``"``. Anything else (spaces, a third part, an
    empty or unterminated quoted name, NUL) raises ``ValueError`` saying what is wrong, so a
    ``cleanup_target`` can never smuggle SQL into a ``DROP``. The same rules hold on every
    backend: a manifest means the same thing wherever it runs.
    """
    source = text.strip()
    if not source:
        raise ValueError("table name is empty")
    parts: list[NamePart] = []
    pos = 0
    while True:
        if source.startswith('"', pos):
            part, pos = _quoted_part(text, source, pos)
        else:
            match = _PLAIN.match(source, pos)
            if match is None:
                found = source[pos] if pos < len(source) else "end of text"
                raise ValueError(
                    f"table name {text!r}: unexpected {found!r} at position {pos + 1}; a name "
                    "is letters, digits, _, $ or # (not starting with a digit), or "
                    'double-quoted like "Mixed Case"'
                )
            part, pos = NamePart(match.group()), match.end()
        parts.append(part)
        if pos == len(source):
            break
        if source[pos] != ".":
            raise ValueError(
                f"table name {text!r}: unexpected {source[pos]!r} at position {pos + 1}"
            )
        pos += 1
    if len(parts) > 2:
        raise ValueError(f"table name {text!r} has {len(parts)} parts; write table or schema.table")
    return TableName(parts[-1], parts[0] if len(parts) == 2 else None)


def _quoted_part(text: str, source: str, start: int) -> tuple[NamePart, int]:
    chunks: list[str] = []
    pos = start + 1
    while True:
        end = source.find('"', pos)
        if end == -1:
            raise ValueError(f"table name {text!r}: quoted name at position {start + 1} never ends")
        chunks.append(source[pos:end])
        if source.startswith('""', end):
            chunks.append('"')
            pos = end + 2
            continue
        name = "".join(chunks)
        if not name:
            raise ValueError(f"table name {text!r}: empty quoted name at position {start + 1}")
        if "\x00" in name:
            raise ValueError(f"table name {text!r}: contains a NUL character")
        return NamePart(name, quoted=True), end + 1


@dataclass(frozen=True)
class StatementResult:
    """What one statement did: rows affected as the driver says, and rows if it returned any."""

    rowcount: int | None
    columns: tuple[str, ...] | None = None
    rows: list[tuple[Any, ...]] | None = None


class Dialect:
    """One backend's rules. Get one with ``ordo.db.dialects.dialect_for``."""

    backend: ClassVar[str] = "generic"
    transactional_ddl: ClassVar[bool] = True

    def __init__(self, sa_dialect: SADialect) -> None:
        self.sa_dialect = sa_dialect

    @property
    def name(self) -> str:
        """``postgresql``, ``mysql``, ``mariadb``, ``sqlite``, ``duckdb``, ``oracle``, ``mssql``."""
        return self.backend

    def locks_out_other_processes(self, url: URL) -> bool:
        """True when no other process can open the database while this one holds it open.

        The runner then lets go of it before a step that works in its own process (a python
        script connecting to the same database). Servers and SQLite files share; see DuckDB.
        """
        return False

    def write_probe(self, conn: Connection) -> Callable[[], bool] | None:
        """Taken at the start of a transaction: a check of whether it has written since.

        ``None`` when the backend cannot tell cheaply; callers then assume it wrote. The ledger
        uses it to skip units that only read: they have no effect to protect, and a ledger row
        would turn a read-only commit into one that waits for the disk.
        """
        return None

    # -- names ----------------------------------------------------------------------------

    def fold(self, identifier: str) -> str:
        """Fold an unquoted identifier the way the database does; most keep it as written."""
        return identifier

    def parse_table_name(self, text: str) -> TableName:
        return parse_table_name(text)

    def quote_part(self, part: NamePart) -> str:
        value = part.text if part.quoted else self.fold(part.text)
        return str(self.sa_dialect.identifier_preparer.quote_identifier(value))

    def quote_table(self, table: TableName) -> str:
        """Render a table name for SQL: fold unquoted parts, then ALWAYS quote.

        A user who ran ``CREATE TABLE ST_SALES`` created ``st_sales`` on PostgreSQL,
        ``ST_SALES`` on Oracle and ``ST_SALES`` elsewhere, because each folds unquoted names
        its own way. Folding ``cleanup_target: ST_SALES`` the same way and then quoting the
        result names exactly that table on every backend, and quoting means no name, however
        odd (a reserved word, a ``$``), is ever read as SQL. A part the user quoted is kept
        exactly as written, for tables created with quoted mixed-case names.
        """
        quoted = self.quote_part(table.table)
        return f"{self.quote_part(table.schema)}.{quoted}" if table.schema else quoted

    def quote_name(self, text: str) -> str:
        """Parse and quote in one go: what the ``ident`` template filter does."""
        return self.quote_table(parse_table_name(text))

    # -- dropping tables ------------------------------------------------------------------

    def drop_table_sql(self, table: TableName) -> str:
        # Built from quote_table's output only, so nothing the user wrote reaches SQL raw.
        return f"DROP TABLE IF EXISTS {self.quote_table(table)}"

    def table_exists_query(self, table: TableName) -> Executable | None:
        """A query counting the table, for backends without ``DROP TABLE IF EXISTS``."""
        return None

    def drop_table_if_exists(self, conn: Connection, table: TableName) -> None:
        """Drop ``table`` if it exists, inside the caller's transaction.

        Where DDL is not transactional (MySQL/MariaDB, Oracle) the database commits implicitly
        around the ``DROP``; that is the backend's rule, not something ordo can change.
        """
        query = self.table_exists_query(table)
        if query is not None and not conn.execute(query).scalar():
            return
        self.execute(conn, self.drop_table_sql(table))

    # -- literals -------------------------------------------------------------------------

    def quote_literal(self, value: object) -> str:
        """Render a Python value as a SQL literal (the ``literal`` template filter).

        Bind parameters are better wherever they can be used; this is for SQL templates.
        """
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return self.quote_bool(value)
        # int()/float() first: a subclass's own __str__ must not reach the SQL text.
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"cannot write {value!r} as a SQL literal")
            return repr(float(value))
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"cannot write {value!r} as a SQL literal")
            return format(value, "f")
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("a SQL string literal cannot contain a NUL character")
            return self.quote_string(value)
        if isinstance(value, dt.datetime):
            return self.quote_datetime(value)
        if isinstance(value, dt.date):
            return self.quote_date(value)
        raise TypeError(f"cannot write a {type(value).__name__} as a SQL literal")

    def quote_string(self, value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def quote_bool(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    def quote_date(self, value: dt.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def quote_datetime(self, value: dt.datetime) -> str:
        if value.tzinfo is not None:
            return f"TIMESTAMP WITH TIME ZONE '{value.isoformat(sep=' ')}'"
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"

    # -- running statements ---------------------------------------------------------------

    def execute(self, conn: Connection, sql: str, *, fetch: bool = True) -> StatementResult:
        """Run one statement text as written: not split, and with no parameters.

        ``no_parameters`` makes SQLAlchemy call ``cursor.execute(sql)`` on the connection's
        DBAPI cursor with no parameter argument at all, so drivers never read ``%`` or
        ``:name`` as placeholders and a whole ``DO $$ ... $$`` or ``BEGIN ... END;`` block
        goes through in one call. Going through ``exec_driver_sql`` rather than a bare
        ``conn.connection.cursor()`` keeps SQLAlchemy's bookkeeping: it begins the transaction
        (firing our SQLite ``BEGIN``), marks dead connections invalid so the pool drops them,
        and runs cursor events.
        """
        result = conn.exec_driver_sql(sql, execution_options={"no_parameters": True})
        return self._result(result, fetch=fetch, returns_rows=result.returns_rows)

    @staticmethod
    def _result(result: CursorResult[Any], *, fetch: bool, returns_rows: bool) -> StatementResult:
        rowcount = result.rowcount  # read before fetching: some drivers reset it
        count = rowcount if rowcount is not None and rowcount >= 0 else None
        if not returns_rows:
            result.close()
            return StatementResult(count)
        columns = tuple(result.keys())
        if not fetch:
            result.close()
            return StatementResult(count, columns)
        return StatementResult(count, columns, [tuple(row) for row in result.fetchall()])

    @contextmanager
    def statement_timeout(self, conn: Connection, seconds: float | None) -> Iterator[None]:
        """Cancel statements run inside the block after ``seconds``; ``None`` means no limit.

        The default is a timer thread that calls ``cancel`` on the DBAPI connection; backends
        with a server-side limit override this. Catch the driver error outside the block and
        pass the same ``seconds`` to ``translate`` to get a ``StepTimeout``.
        """
        if seconds is None:
            yield
            return
        dbapi_connection = conn.connection.dbapi_connection
        with cancel_after(check_seconds(seconds), lambda: self.cancel(dbapi_connection)):
            yield

    def cancel(self, dbapi_connection: Any) -> None:
        """Interrupt the statement running on a DBAPI connection, from another thread."""
        raise NotImplementedError(f"{self.name} cannot cancel a running statement")

    # -- errors ---------------------------------------------------------------------------

    @classmethod
    def classify(cls, error: BaseException) -> ErrorKind:
        """Transient, permanent or timeout, from the driver's own error (not SQLAlchemy's)."""
        return ErrorKind.PERMANENT

    @classmethod
    def describe(cls, error: BaseException) -> str:
        """The driver's message, made readable: first line, with the error code."""
        return first_line(str(error))


def check_seconds(seconds: float) -> float:
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"a timeout must be a positive number of seconds, got {seconds!r}")
    return float(seconds)


@contextmanager
def cancel_after(seconds: float, cancel: Any) -> Iterator[None]:
    """Call ``cancel()`` from a timer thread if the block is still running after ``seconds``.

    The lock makes "block finished" and "timer fired" exclusive, so the cancel never lands
    after the block has returned (where it could hit the caller's next statement).
    """
    lock = threading.Lock()
    state = {"done": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                # Best effort: if the connection died meanwhile, the statement has failed
                # on its own and that error is the one the caller will see.
                with suppress(Exception):
                    cancel()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
        timer.cancel()


def first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return text.strip() or "unknown database error"


def mro_names(error: BaseException) -> set[str]:
    """Class names in the error's hierarchy, so drivers can be recognised without importing."""
    return {klass.__name__ for klass in type(error).__mro__}
