"""The history table: which migrations ran, when, by whom, with which checksum.

The columns are Pyway's, which are Flyway's history table plus Flyway 3's
``version_rank``; the table is defined once, here, as a SQLAlchemy Core ``Table`` so every
dialect gets its own types (``BOOLEAN``/``BIT``/``TINYINT``, ``TIMESTAMP``/``DATETIME``).

One deliberate change from Pyway: ``installed_rank`` is the primary key and ``version`` is
nullable. Pyway keys the table on ``version``, but a repeatable migration has no version
(``NULL``, as in Flyway) and gets a new row each time it is re-applied, and a failed attempt
leaves a row beside the later successful one; neither fits a key on ``version``.

Row meanings follow Flyway: ``type`` is ``SQL`` for versioned and repeatable SQL migrations and
``BASELINE`` for a baseline marker; ``checksum`` is ``NULL`` for a baseline; ``success`` is
false only for a migration that failed where its effects could not be rolled back. Versions
are stored in Flyway's display form (``2_1`` as ``2.1``, ``003`` as ``003``).

``version_rank`` keeps Flyway 3's meaning: the row's position when the history is sorted by
version (rows without a version last, in installation order). An out-of-order migration
takes its place and moves the later rows down by one; ranks stay ordered but may have gaps
after ``repair`` removes rows.

Flyway's own layout (``flyway_schema_history``, or Flyway 4's ``schema_version``: the same
columns without ``version_rank``) is read and written too, so a team on Flyway switches by
pointing ordo at its database. The layout is found from the table's columns, never configured:
a table with ``version_rank`` is Pyway's, one with Flyway's ten columns and no ``version_rank``
is Flyway's, and rows go into it as Flyway writes them (``installed_rank`` one above the
highest, no ``version_rank``), so Flyway still reads it afterwards. When the configured table
does not exist but ``flyway_schema_history`` (Flyway 5+'s default name) does in the same
schema, with Flyway's layout, that table is the history: a database Flyway migrated must not
get a second, empty history, which would run every migration again on top of its schema.
A new table is always created in Pyway's layout under the configured name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    delete,
    false,
    func,
    inspect,
    literal_column,
    select,
    update,
)
from sqlalchemy import table as sa_table
from sqlalchemy.sql.elements import quoted_name

from ordo.db.dialects import Dialect, NamePart, TableName
from ordo.migrations.files import MigrationFile, Version, abbreviate_description

__all__ = ["BASELINE", "FLYWAY_TABLE", "SQL", "History", "HistoryEntry", "history_table"]

SQL = "SQL"
BASELINE = "BASELINE"
# Flyway's other baseline rows: a B-file applied as the baseline (Flyway 9+), Flyway 2's marker
_BASELINES = frozenset({BASELINE, "SQL_BASELINE", "INIT"})

FLYWAY_TABLE = "flyway_schema_history"  # Flyway 5+'s default history table
_FLYWAY_COLUMNS = frozenset(
    {
        "installed_rank",
        "version",
        "description",
        "type",
        "script",
        "checksum",
        "installed_by",
        "installed_on",
        "execution_time",
        "success",
    }
)


def history_table(name: TableName, dialect: Dialect, *, flyway: bool = False) -> Table:
    """The Core ``Table`` for the history, named as the user wrote it (folded like an unquoted
    ``CREATE TABLE`` would be, or exactly as written when quoted); ``flyway`` leaves out
    ``version_rank``, as Flyway 4+ has it."""
    schema = _name(name.schema, dialect) if name.schema else None
    return _table(_name(name.table, dialect), schema, flyway=flyway)


def _table(name: str, schema: str | None, *, flyway: bool) -> Table:
    ranks = [] if flyway else [Column("version_rank", Integer, nullable=False)]
    return Table(
        name,
        MetaData(),
        *ranks,
        Column("installed_rank", Integer, primary_key=True, autoincrement=False),
        Column("version", String(50), nullable=True),
        Column("description", String(200), nullable=False),
        Column("type", String(20), nullable=False),
        Column("script", String(1000), nullable=False),
        Column("checksum", Integer, nullable=True),
        Column("installed_by", String(100), nullable=False),
        Column("installed_on", DateTime, nullable=False, server_default=func.current_timestamp()),
        Column("execution_time", Integer, nullable=False),
        Column("success", Boolean, nullable=False),
        schema=schema,
    )


def _name(part: NamePart, dialect: Dialect) -> str:
    if part.quoted:
        return quoted_name(part.text, quote=True)
    return dialect.fold(part.text)


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history table."""

    installed_rank: int
    version_rank: int | None  # None in Flyway's layout, which has no such column
    version: str | None
    description: str
    type: str
    script: str
    checksum: int | None
    installed_by: str
    installed_on: dt.datetime | None
    execution_time: int
    success: bool

    @classmethod
    def from_row(cls, row: Any) -> HistoryEntry:
        rank = getattr(row, "version_rank", None)
        return cls(
            installed_rank=int(row.installed_rank),
            version_rank=None if rank is None else int(rank),
            version=row.version,
            description=row.description,
            type=row.type,
            script=row.script,
            checksum=None if row.checksum is None else int(row.checksum),
            installed_by=row.installed_by,
            installed_on=row.installed_on,
            execution_time=int(row.execution_time),
            success=bool(row.success),
        )

    @property
    def parsed_version(self) -> Version | None:
        """The version as a ``Version``; None for repeatables and unreadable versions."""
        try:
            return Version(self.version) if self.version is not None else None
        except ValueError:
            return None

    @property
    def is_baseline(self) -> bool:
        return self.type in _BASELINES

    @property
    def is_versioned(self) -> bool:
        return self.type == SQL and self.version is not None

    @property
    def is_repeatable(self) -> bool:
        return self.type == SQL and self.version is None


class History:
    """Reads and writes the history table on the caller's connection and transaction.

    ``configured`` is the table the settings name (the lock is keyed on it, so every ordo
    process agrees whatever it finds); ``table`` is the one in use, found by ``exists`` or
    ``create`` (``read`` and the writes use what they found), and ``flyway`` says whether it
    has Flyway's layout.
    """

    def __init__(self, table: Table) -> None:
        self.configured = table
        self.table = table
        self.flyway = False
        fallback = table.name.lower() != FLYWAY_TABLE
        # Flyway quotes its names, so the table is lower case on every database
        self._fallback = (
            _table(quoted_name(FLYWAY_TABLE, quote=True), table.schema, flyway=True)
            if fallback
            else None
        )

    def exists(self, conn: Connection) -> bool:
        """Whether a history table exists; points ``table`` at it, in the layout it has."""
        found = inspect(conn)
        for candidate in (self.configured, self._fallback):
            if candidate is None or not found.has_table(candidate.name, schema=candidate.schema):
                continue
            columns = _columns(conn, candidate)
            flyway = "version_rank" not in columns and columns >= _FLYWAY_COLUMNS
            if candidate is self._fallback and not flyway:
                continue  # someone else's table of that name: not a history ordo can use
            self.table = _table(candidate.name, candidate.schema, flyway=flyway)
            self.flyway = flyway
            return True
        self.table, self.flyway = self.configured, False
        return False

    def create(self, conn: Connection) -> None:
        """Create the configured table in Pyway's layout, unless a history exists already."""
        if not self.exists(conn):
            self.table.create(conn, checkfirst=True)

    def read(self, conn: Connection) -> list[HistoryEntry]:
        query = select(self.table).order_by(self.table.c.installed_rank)
        return [HistoryEntry.from_row(row) for row in conn.execute(query)]

    def add(
        self,
        conn: Connection,
        migration: MigrationFile | None,
        *,
        installed_by: str,
        execution_time: int,
        success: bool,
        baseline: tuple[Version, str] | None = None,
    ) -> None:
        """Insert the row for ``migration`` (or a baseline marker), ranks computed in the same
        transaction so they see every committed row."""
        t = self.table
        if migration is not None:
            version, description = migration.version, migration.recorded_description
            values = {
                "type": SQL,
                "script": migration.recorded_script,
                "checksum": migration.checksum,
            }
        else:
            assert baseline is not None
            version, description = baseline[0], abbreviate_description(baseline[1])
            values = {"type": BASELINE, "script": description, "checksum": None}
        installed_rank = conn.execute(select(func.max(t.c.installed_rank))).scalar() or 0
        if not self.flyway:  # Flyway's layout has no version_rank to keep in order
            version_rank = self._version_rank(conn, version)
            conn.execute(
                update(t)
                .where(t.c.version_rank >= version_rank)
                .values(version_rank=t.c.version_rank + 1)
            )
            values["version_rank"] = version_rank
        conn.execute(
            t.insert().values(
                installed_rank=installed_rank + 1,
                version=version.text if version else None,
                description=description,
                installed_by=installed_by[:100],
                execution_time=execution_time,
                success=success,
                **values,
            )
        )

    def _version_rank(self, conn: Connection, version: Version | None) -> int:
        rows = conn.execute(select(self.table.c.version, self.table.c.version_rank)).all()
        before = [
            rank
            for text, rank in rows
            if version is None or (text is not None and _sorts_before(text, version))
        ]
        return max(before, default=0) + 1

    def remove_failed(self, conn: Connection) -> list[HistoryEntry]:
        """Delete the rows of failed migrations; returns what was deleted."""
        t = self.table
        failed = [e for e in self.read(conn) if not e.success]
        if failed:
            conn.execute(
                delete(t).where(t.c.installed_rank.in_([e.installed_rank for e in failed]))
            )
        return failed

    def realign(self, conn: Connection, entry: HistoryEntry, migration: MigrationFile) -> None:
        """Record the file's current checksum, description and name for an applied row."""
        t = self.table
        conn.execute(
            update(t)
            .where(t.c.installed_rank == entry.installed_rank)
            .values(
                checksum=migration.checksum,
                description=migration.recorded_description,
                script=migration.recorded_script,
            )
        )


def _columns(conn: Connection, table: Table) -> set[str]:
    """The table's column names, lower case, from an empty query: the inspector's
    ``get_columns`` fails on DuckDB (it asks for PostgreSQL catalogs DuckDB lacks)."""
    everything: Select[Any] = select(literal_column("*"))
    query = everything.select_from(sa_table(table.name, schema=table.schema)).where(false())
    names = conn.execute(query).keys()  # a Result's names, not a dict's
    return {name.lower() for name in names}


def _sorts_before(text: str, version: Version) -> bool:
    try:
        return Version(text) <= version
    except ValueError:
        return True  # an unreadable version (another tool's marker): keep it first
