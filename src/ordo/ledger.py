"""The ledger: a row per committed step, written in the same transaction as the step's work.

A run can die between committing a unit and recording it in the manifest. Without help the
next run would execute that unit again. With the ledger (the pattern Luigi uses for its marker
table), the unit's transaction also inserts one row per step into ``ordo_ledger`` in the target
database, so "the work is committed" and "the ledger says so" are one atomic fact. The next run
reads the ledger, marks those steps done in the manifest instead of running them, and then
forgets the rows (they have served their purpose once the manifest says the same).

Rows are keyed by a pipeline key (the pipeline's name and its manifest's path inside the
project, so moving the project folder keeps the key) and the step name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    select,
)

from ordo.db.dialects import parse_table_name

__all__ = ["DEFAULT_TABLE", "Ledger", "LedgerEntry"]

DEFAULT_TABLE = "ordo_ledger"


@dataclass(frozen=True)
class LedgerEntry:
    step: str
    run_id: str
    committed_at: datetime | None


class Ledger:
    """The ledger of one pipeline in one database."""

    def __init__(self, pipeline_key: str, table: str = DEFAULT_TABLE) -> None:
        name = parse_table_name(table)
        self.pipeline_key = pipeline_key[:200]
        self.table = Table(
            name.table.text,
            MetaData(),
            Column("pipeline", String(200), primary_key=True),
            Column("step", String(200), primary_key=True),
            Column("run_id", String(64), nullable=False),
            Column("committed_at", DateTime, nullable=False),
            schema=name.schema.text if name.schema else None,
        )

    def ensure(self, conn: Connection) -> None:
        """Create the table if it is missing; commits (DDL is not transactional everywhere)."""
        self.table.create(conn, checkfirst=True)
        conn.commit()

    def exists(self, conn: Connection) -> bool:
        from sqlalchemy import inspect

        return inspect(conn).has_table(self.table.name, schema=self.table.schema)

    def record(self, conn: Connection, steps: Sequence[str], run_id: str) -> None:
        """Inside the unit's transaction: these steps' work is part of what commits."""
        if not steps:
            return
        self._delete(conn, steps)
        now = datetime.now(UTC).replace(tzinfo=None)
        conn.execute(
            insert(self.table),
            [
                {
                    "pipeline": self.pipeline_key,
                    "step": s[:200],
                    "run_id": run_id,
                    "committed_at": now,
                }
                for s in steps
            ],
        )

    def entries(self, conn: Connection) -> dict[str, LedgerEntry]:
        """Every step this pipeline has recorded, by name; leaves no transaction open."""
        was_open = conn.in_transaction()
        query = select(self.table.c.step, self.table.c.run_id, self.table.c.committed_at).where(
            self.table.c.pipeline == self.pipeline_key
        )
        found = {r.step: LedgerEntry(r.step, r.run_id, r.committed_at) for r in conn.execute(query)}
        if not was_open:
            conn.commit()
        return found

    def forget(self, conn: Connection, steps: Iterable[str]) -> None:
        """Drop rows the manifest now records itself; commits."""
        names = list(steps)
        if names:
            self._delete(conn, names)
            conn.commit()

    def _delete(self, conn: Connection, steps: Sequence[str]) -> None:
        conn.execute(
            delete(self.table).where(
                and_(
                    self.table.c.pipeline == self.pipeline_key,
                    self.table.c.step.in_([s[:200] for s in steps]),
                )
            )
        )
