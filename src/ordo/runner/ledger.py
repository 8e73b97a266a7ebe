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

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

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
    inspect,
    select,
)

from ordo.db.connect import connect
from ordo.db.dialects import dialect_for, parse_table_name
from ordo.db.errors import database_errors
from ordo.errors import CannotConnect, OrdoError, TransientError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ordo.config.connections import ConnectionSettings
    from ordo.db.engines import EngineRegistry
    from ordo.masking import Masker
    from ordo.planning.model import Plan

__all__ = ["DEFAULT_TABLE", "Ledger", "LedgerEntry", "forget_recorded", "pipeline_key", "reconcile"]

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
        # Set when the table could not be made before the run (a lock held elsewhere): the first
        # unit that records creates it in its own transaction (transactional DDL only).
        self.create_in_unit = False
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
        return inspect(conn).has_table(self.table.name, schema=self.table.schema)

    def record(self, conn: Connection, steps: Sequence[str], run_id: str) -> None:
        """Inside the unit's transaction: these steps' work is part of what commits."""
        if not steps:
            return
        if self.create_in_unit:
            self.table.create(conn, checkfirst=True)  # rolls back with the unit if it fails
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


def pipeline_key(plan: Plan) -> str:
    """The pipeline's name and its manifest's path inside the project: stable across moves."""
    manifest = plan.manifest.path
    try:
        where = manifest.relative_to(plan.project.root).as_posix()
    except ValueError:
        where = manifest.as_posix()
    return f"{plan.name}:{where}"


def _ledger_connections(plan: Plan) -> dict[str, set[str]]:
    """Connections whose units commit transactions, with the steps that run on each."""
    found: dict[str, set[str]] = {}
    for unit in plan.units:
        if unit.transactional and unit.connection is not None:
            found.setdefault(unit.connection, set()).update(unit.names)
    return found


def reconcile(
    plan: Plan, engines: EngineRegistry, masker: Masker
) -> tuple[dict[str, Ledger], dict[str, str]]:
    """Ready the ledgers of a run and read what an interrupted run already committed.

    Returns the ledger of every read-write connection the plan writes through, and the steps
    of this plan that the ledger holds (with the run that committed them): the runner records
    those as done instead of running them. Rows of steps the manifest already marks done are
    forgotten. Nothing is read when the pipeline says ``ledger: false``.
    """
    if not plan.manifest.pipeline.ledger:
        return {}, {}
    key = pipeline_key(plan)
    enabled = {entry.name for entry in plan.manifest.steps if entry.options.enabled}
    ledgers: dict[str, Ledger] = {}
    recovered: dict[str, str] = {}
    for name, steps in _ledger_connections(plan).items():
        settings = plan.settings.connection(name)
        if settings.read_only:
            continue
        ledger = Ledger(key)
        engine = engines.for_connection(settings)
        try:
            with database_errors(masker=masker):
                entries = _read_or_create(ledger, engine, settings, masker)
        except CannotConnect:
            raise  # says which connection and why; the ledger is not the problem
        except OrdoError as exc:
            raise exc.with_context(
                prefix=f"could not read {DEFAULT_TABLE} before the run",
                hint="another connection may hold a lock on the database; or set ledger: false",
            ) from exc
        stale = [step for step in entries if step not in enabled]  # the manifest says done
        if stale:
            _forget(ledger, engine, stale, masker)
        recovered.update({s: e.run_id for s, e in entries.items() if s in steps})
        ledgers[name] = ledger
    return ledgers, recovered


def forget_recorded(
    plan: Plan,
    engines: EngineRegistry,
    ledgers: Mapping[str, Ledger],
    done: Iterable[str],
    *,
    masker: Masker,
) -> None:
    """After the manifest records ``done``, their rows have served: drop them (best effort).

    A failure is logged as one translated, masked line and does not fail the run: the rows
    left behind only name steps the manifest already marks done, which the next run forgets.
    """
    done_steps = set(done)
    for name, steps in _ledger_connections(plan).items():
        ledger = ledgers.get(name)
        if ledger is None or not (steps & done_steps):
            continue
        engine = engines.for_connection(plan.settings.connection(name))
        _forget(ledger, engine, sorted(steps & done_steps), masker)


def _forget(ledger: Ledger, engine: Engine, steps: Sequence[str], masker: Masker) -> None:
    """Drop ``steps``' rows if the table is there (read-only units never make it); best effort."""
    if dialect_for(engine).database_missing(engine.url):
        return  # nothing was ever recorded in it, and connecting would create the file
    try:
        with database_errors(masker=masker), engine.connect() as conn:
            if ledger.exists(conn):
                ledger.forget(conn, steps)
    except OrdoError as exc:
        logging.getLogger("ordo").warning("could not tidy the ledger: %s", exc.message)


def _read_or_create(
    ledger: Ledger, engine: Engine, settings: ConnectionSettings, masker: Masker
) -> dict[str, LedgerEntry]:
    """The ledger's rows, creating the table when there is none (then there is nothing to read).

    Only reads are needed when the table exists; creating it can meet a lock that another
    connection holds (SQLite), and since an absent table holds nothing to recover, creating it
    can wait for the first unit that records, where the dialect allows DDL in a transaction.
    """
    dialect = dialect_for(engine)
    if dialect.database_missing(engine.url):  # connecting would create it; the first unit will
        ledger.create_in_unit = True
        return {}
    with connect(engine, settings, masker) as conn:
        if ledger.exists(conn):
            return ledger.entries(conn)
        try:
            with database_errors(masker=masker):
                ledger.ensure(conn)
        except TransientError:
            if dialect.transactional_ddl:
                conn.rollback()
                ledger.create_in_unit = True
                return {}
            raise
        return {}
