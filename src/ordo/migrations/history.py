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
    String,
    Table,
    delete,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.sql.elements import quoted_name

from ordo.db.dialects import Dialect, NamePart, TableName
from ordo.migrations.files import MigrationFile, Version, abbreviate_description

__all__ = ["BASELINE", "SQL", "History", "HistoryEntry", "history_table"]

SQL = "SQL"
BASELINE = "BASELINE"


def history_table(name: TableName, dialect: Dialect) -> Table:
    """The Core ``Table`` for the history, named as the user wrote it (folded like an unquoted
    ``CREATE TABLE`` would be, or exactly as written when quoted)."""
    schema = _name(name.schema, dialect) if name.schema else None
    return Table(
        _name(name.table, dialect),
        MetaData(),
        Column("version_rank", Integer, nullable=False),
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
    version_rank: int
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
        return cls(
            installed_rank=int(row.installed_rank),
            version_rank=int(row.version_rank),
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
        return self.type == BASELINE

    @property
    def is_versioned(self) -> bool:
        return self.type == SQL and self.version is not None

    @property
    def is_repeatable(self) -> bool:
        return self.type == SQL and self.version is None


class History:
    """Reads and writes the history table on the caller's connection and transaction."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def exists(self, conn: Connection) -> bool:
        return inspect(conn).has_table(self.table.name, schema=self.table.schema)

    def create(self, conn: Connection) -> None:
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
        version_rank = self._version_rank(conn, version)
        conn.execute(
            update(t)
            .where(t.c.version_rank >= version_rank)
            .values(version_rank=t.c.version_rank + 1)
        )
        conn.execute(
            t.insert().values(
                version_rank=version_rank,
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


def _sorts_before(text: str, version: Version) -> bool:
    try:
        return Version(text) <= version
    except ValueError:
        return True  # an unreadable version (another tool's marker): keep it first
