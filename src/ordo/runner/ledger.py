"""The ledger: a row per committed step, written in the same transaction as the step's work.

A run can die between committing a unit and recording it in the manifest. Without help the
next run would execute that unit again. With the ledger (the pattern Luigi uses for its marker
table), the unit's transaction also inserts one row per step into ``ordo_ledger`` in the target
database, so "the work is committed" and "the ledger says so" are one atomic fact. The next run
reads the ledger, marks those steps done in the manifest instead of running them, and then
forgets the rows (they have served their purpose once the manifest says the same).

Rows are keyed by a pipeline key (the pipeline's name and its manifest's path inside the
project, so moving the project folder keeps the key) and the step name.

A service run (issue 14) never marks its manifest: the manifest is the job's definition, and
every run of it does all its enabled steps. Its rows are keyed by the run too (``run_key``:
the service run's id before the pipeline key), so only a later attempt of that same run, after
a crash, trusts them, with no marks or journal to consult; and they are all deleted once the
run ends (``forget_run``). Tomorrow's run has another key and does everything again.

The rule: a row never overrides a step the user enabled again. A row (step S, run R) is only
ever trusted as "R committed S and died before its Done mark reached the manifest":

- rows go as soon as their marks are durable: ``ordo.run`` deletes the rows of every step
  whose mark it wrote, however the run ends (success, failure, Ctrl-C, SIGTERM);
- ``ordo enable`` deletes the rows of the steps it enables;
- a row that is still there when a run starts (the process was killed between a mark and the
  delete, or the database could not be reached for it) is trusted only if the manifest shows
  S enabled *and* R's mark for S was never written. "Written" is known from the marks journal
  beside the manifest (``manifest.journal``): each durable mark notes (S, R) there. A manifest
  that shows S done makes the row stale; a journal that holds (S, R) while the manifest shows S
  enabled means the mark was removed later, by the user (``ordo enable``, an edit, the file
  reset from git, which is byte for byte the file R started from and so cannot tell by
  itself): the row is forgotten and S runs again. Only a row whose mark never reached the disk
  (the ``kill -9`` after the commit) makes S "already committed", as exactly-once needs.
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
from ordo.manifest.journal import MarkJournal

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from ordo.config import Settings
    from ordo.config.connections import ConnectionSettings
    from ordo.db.engines import EngineRegistry
    from ordo.manifest.model import Manifest
    from ordo.masking import Masker
    from ordo.planning.model import Plan

__all__ = [
    "DEFAULT_TABLE",
    "Ledger",
    "LedgerEntry",
    "forget_enabled",
    "forget_recorded",
    "forget_run",
    "pipeline_key",
    "reconcile",
]

DEFAULT_TABLE = "ordo_ledger"
LOGGER = logging.getLogger("ordo")


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


def pipeline_key(plan: Plan, run_key: str | None = None) -> str:
    """The pipeline's name and its manifest's path inside the project: stable across moves;
    a service run's key first (it must survive the column's 200 characters)."""
    key = _key(plan.name, plan.manifest.path, plan.project.root)
    return key if run_key is None else f"run:{run_key}:{key}"


def _key(name: str, manifest: Path, root: Path) -> str:
    try:
        where = manifest.relative_to(root).as_posix()
    except ValueError:
        where = manifest.as_posix()
    return f"{name}:{where}"


def _ledger_connections(plan: Plan) -> dict[str, set[str]]:
    """Connections whose units commit transactions, with the steps that run on each."""
    found: dict[str, set[str]] = {}
    for unit in plan.units:
        if unit.transactional and unit.connection is not None:
            found.setdefault(unit.connection, set()).update(unit.names)
    return found


def reconcile(
    plan: Plan, engines: EngineRegistry, masker: Masker, *, run_key: str | None = None
) -> tuple[dict[str, Ledger], dict[str, str]]:
    """Ready the ledgers of a run and read what an interrupted run already committed.

    Returns the ledger of every read-write connection the plan writes through, and the steps
    of this plan that the ledger holds (with the run that committed them): the runner records
    those as done instead of running them. Rows that the manifest or the marks journal
    overrides (see the module docstring) are forgotten instead. Nothing is read when the
    pipeline says ``ledger: false``. With ``run_key`` (a service run) the rows are that run's
    own, and every one of them is trusted.
    """
    if not plan.manifest.pipeline.ledger or (
        run_key is None and not plan.manifest.pipeline.keeps_ledger
    ):
        return {}, {}
    key = pipeline_key(plan, run_key)
    enabled = {entry.name for entry in plan.manifest.steps if entry.options.enabled}
    journal = MarkJournal(plan.manifest.path)
    noted = journal.read() if run_key is None else set()
    ledgers: dict[str, Ledger] = {}
    recovered: dict[str, str] = {}
    forgotten: list[str] = []
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
        overridden = [
            step
            for step, entry in entries.items()
            if step not in enabled or (step, entry.run_id) in noted
        ]
        for step in overridden:
            if step in enabled:
                LOGGER.info(
                    "%s: committed by run %s and marked done, then enabled again: it runs again",
                    step,
                    entries[step].run_id[:8],
                )
        if overridden and _forget(ledger, engine, overridden, masker):
            forgotten.extend(overridden)
        recovered.update(
            {s: e.run_id for s, e in entries.items() if s in steps and s not in overridden}
        )
        ledgers[name] = ledger
    if run_key is None:
        _tidy_journal(journal, forgotten)
    return ledgers, recovered


def forget_run(
    plan: Plan, engines: EngineRegistry, ledgers: Mapping[str, Ledger], *, masker: Masker
) -> None:
    """A service run ended: its rows (``reconcile(run_key=...)``) have served; best effort."""
    for name, steps in _ledger_connections(plan).items():
        ledger = ledgers.get(name)
        if ledger is not None:
            engine = engines.for_connection(plan.settings.connection(name))
            _forget(ledger, engine, sorted(steps), masker)


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
    left behind only name steps whose marks are on disk, and the marks journal keeps them
    from overriding the manifest later (see the module docstring).
    """
    done_steps = set(done)
    kept: set[str] = set()  # rows that could not be deleted: their journal entries stay
    for name, steps in _ledger_connections(plan).items():
        ledger = ledgers.get(name)
        if ledger is None or not (steps & done_steps):
            continue
        engine = engines.for_connection(plan.settings.connection(name))
        ours = sorted(steps & done_steps)
        if not _forget(ledger, engine, ours, masker):
            kept.update(ours)
    _tidy_journal(MarkJournal(plan.manifest.path), sorted(done_steps - kept))


def forget_enabled(
    manifest: Manifest,
    project_root: Path,
    settings: Settings,
    steps: Iterable[str],
    masker: Masker,
) -> None:
    """``ordo enable``: delete the ledger rows of ``steps``, on every connection they use.

    Best effort, like every tidy of the ledger: a database that cannot be reached is a
    warning, and the marks journal still keeps a row from overriding the re-enabled step.
    """
    if not manifest.pipeline.keeps_ledger:
        return
    from ordo.db.engines import EngineRegistry  # deferred: enable rarely needs a database

    wanted = set(steps)
    by_connection: dict[str, list[str]] = {}
    for entry in manifest.steps:
        if entry.name in wanted:
            name = entry.options.connection or manifest.pipeline.connection
            by_connection.setdefault(name, []).append(entry.name)
    ledger = Ledger(_key(manifest.name, manifest.path, project_root))
    engines = EngineRegistry()
    forgotten: list[str] = []
    try:
        for name, names in by_connection.items():
            if not settings.has_connection(name) or settings.connection(name).read_only:
                continue
            engine = engines.for_connection(settings.connection(name))
            if _forget(ledger, engine, names, masker):
                forgotten.extend(names)
    finally:
        engines.dispose_all()
    _tidy_journal(MarkJournal(manifest.path), forgotten)


def _tidy_journal(journal: MarkJournal, forgotten: Sequence[str]) -> None:
    """The journal's entries of rows now deleted answer for nothing: drop them (best effort)."""
    try:
        journal.forget(forgotten)
    except OSError as exc:
        LOGGER.warning("could not tidy %s: %s", journal.path, exc.strerror or type(exc).__name__)


def _forget(ledger: Ledger, engine: Engine, steps: Sequence[str], masker: Masker) -> bool:
    """Drop ``steps``' rows if the table is there (read-only units never make it); best effort.

    True when no such row is left (deleted, or there was never a table to hold one)."""
    if dialect_for(engine).database_missing(engine.url):
        return True  # nothing was ever recorded in it, and connecting would create the file
    try:
        with database_errors(masker=masker), engine.connect() as conn:
            if ledger.exists(conn):
                ledger.forget(conn, steps)
    except OrdoError as exc:
        LOGGER.warning("could not tidy the ledger: %s", exc.message)
        return False
    return True


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
