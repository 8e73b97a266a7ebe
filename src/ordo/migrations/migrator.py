"""Flyway-style migrations for one database: status, validate, migrate, repair, baseline.

The order inside ``migrate`` is what makes it safe to run from several machines at once:
read the files (a misnamed or duplicated one stops everything before the database is
touched), take the lock, create the history table if needed, read the history under the lock
(so a migrator that waited sees what the previous one applied), validate, then run each
pending migration with its history row:

- where DDL is transactional (PostgreSQL, SQLite, DuckDB), statements and row commit together
  or not at all: a failure leaves no trace and the next run simply tries again;
- on MySQL/MariaDB, where every DDL statement commits at once, a failure is recorded as a row
  with ``success = false``, which blocks later runs until ``repair`` removes it: the database
  may hold half of the migration and a person has to look;
- a file whose first line is ``-- ordo:no-transaction``, or on PostgreSQL a file made only of
  statements that refuse a transaction (``CREATE INDEX CONCURRENTLY``, ``VACUUM``, ...), runs
  in autocommit and is treated like MySQL on failure, since what ran is kept; a file mixing
  those with other statements is refused before any migration runs, unless ``mixed`` is set.

Nothing after a failed migration runs, and the error names the file, the statement number,
its line and its first line (``apply.py`` runs one migration). Flyway's SQL callbacks in the
folder (``beforeMigrate.sql``, ...) run at their moments (``callbacks.py``), and so do those
of validate (inside ``migrate``), repair, baseline and status (Flyway's info).

Files are read with their ``${placeholders}`` replaced (``placeholders.py``) before anything
else, so a placeholder without a value stops every command before the database is written.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from ordo._words import plural
from ordo.db.dialects import dialect_for, parse_table_name
from ordo.db.engines import EngineRegistry
from ordo.db.errors import database_errors
from ordo.db.statements import CopyDataUnterminated, split_statements
from ordo.errors import ConfigError, ExecutionError, Problem
from ordo.masking import Masker
from ordo.migrations.apply import Applier, transaction
from ordo.migrations.callbacks import Callbacks, Event, discover_callbacks
from ordo.migrations.errors import (
    BaselineRefused,
    MigrationError,
    MigrationFilesInvalid,
    MigrationReadOnly,
    MigrationValidationError,
)
from ordo.migrations.files import MigrationFile, Version, discover, scan
from ordo.migrations.history import History, HistoryEntry, history_table
from ordo.migrations.locks import migration_lock
from ordo.migrations.placeholders import MigrationPlaceholderMissing, Placeholders, database_values
from ordo.migrations.resolve import Resolution, resolve
from ordo.migrations.results import (
    AppliedMigration,
    MigrateResult,
    MigrationStatus,
    Realignment,
    RepairResult,
)

if TYPE_CHECKING:
    from ordo.config import Settings
    from ordo.config.connections import ConnectionSettings

__all__ = ["DEFAULT_LOCK_TIMEOUT", "Migrator", "migrator_for"]

DEFAULT_LOCK_TIMEOUT = 300.0
_LOG = logging.getLogger("ordo")
_INFO_EVENTS = (Event.BEFORE_INFO, Event.AFTER_INFO, Event.AFTER_INFO_ERROR)


class Migrator:
    """Migrations in ``folder`` applied to the database behind ``engine``.

    ``table`` names the history table (``[schema.]name``); ``lock_dir`` holds the lock file
    for an in-memory SQLite or DuckDB database (a file database is locked beside its file);
    ``installed_by`` defaults to
    the database user; ``read_only`` refuses every command that writes (a dry run is allowed);
    ``lock_timeout`` is how long to wait for another migrator, in seconds; ``mixed`` lets a
    file mix statements that refuse a transaction with others (it then runs in autocommit),
    and ``mixed_setting`` is the setting that hints name for it; ``placeholders`` gives the
    values of ``${name}`` in the files (none, and replacement on, if not given).
    """

    def __init__(
        self,
        engine: Engine,
        folder: Path,
        *,
        table: str = "schema_version",
        lock_dir: Path | None = None,
        installed_by: str | None = None,
        read_only: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        masker: Masker | None = None,
        connection: str | None = None,
        mixed: bool = False,
        mixed_setting: str = "MIGRATIONS_MIXED",
        placeholders: Placeholders | None = None,
    ) -> None:
        self.engine = engine
        self.connection = connection  # its name, for the commands the hints spell out
        self.masker = masker or Masker()  # one that knows the configured password, when given
        self.folder = Path(folder)
        self.dialect = dialect_for(engine)
        try:
            name = parse_table_name(table)
        except ValueError as exc:
            raise ConfigError(f"migration history table: {exc}") from exc
        self.history = History(history_table(name, self.dialect))
        self.lock_dir = lock_dir
        self.installed_by = installed_by or engine.url.username or _os_user()
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self.mixed = mixed
        self.mixed_setting = mixed_setting
        self.placeholders = placeholders or Placeholders()
        self._table_name = name

    @classmethod
    def for_connection(
        cls, engine: Engine, connection: ConnectionSettings, settings: Settings
    ) -> Migrator:
        """The migrator of a named connection: its folder (which must exist), history table,
        read-only rule, and the lock file under the project's ``.ordo/``."""
        folder = connection.migrations
        prefix = f"{settings.env_name.upper()}_GLOBAL_{connection.name.upper()}_MIGRATIONS"
        if folder is None or not folder.is_dir():
            raise ConfigError(
                f"no migrations folder for connection '{connection.name}' (looked for {folder})",
                hint=f"create it, or set {prefix} to the folder holding "
                "V<version>__<name>.sql files",
            )
        return cls(
            engine,
            folder,
            table=connection.history_table,
            lock_dir=settings.root / ".ordo",
            read_only=connection.read_only,
            masker=settings.masker(),
            connection=connection.name,
            mixed=connection.migrations_mixed,
            mixed_setting=f"{prefix}_MIXED",
            placeholders=Placeholders(
                connection.placeholders,
                connection.placeholder_replacement,
                setting=f"{prefix.removesuffix('_MIGRATIONS')}_PLACEHOLDERS_",
                switch=f"{prefix}_PLACEHOLDER_REPLACEMENT",
            ),
        )

    # -- reading --------------------------------------------------------------------------

    def discover(self, placeholders: Placeholders | None = None) -> list[MigrationFile]:
        """The migration files in run order, placeholders replaced; raises
        ``MigrationFilesInvalid`` or ``MigrationPlaceholderMissing``."""
        files, problems = self._replaced(discover(self.folder), placeholders)
        if problems:
            raise MigrationPlaceholderMissing.gathering(problems)
        return files

    def status(self, *, run_callbacks: bool = True) -> MigrationStatus:
        """Where the database stands, problems included; raises only if the database fails.

        ``beforeInfo`` / ``afterInfo`` / ``afterInfoError`` callbacks run around it, as around
        Flyway's info, unless ``run_callbacks`` is off (a health check runs no user SQL);
        apart from what they do, status writes nothing."""
        files, file_problems = scan(self.folder)
        files, missing = self._replaced(files)
        file_problems.extend(missing)
        callbacks = self._info_callbacks(file_problems) if run_callbacks else Callbacks()
        with self._around(callbacks, *_INFO_EVENTS):
            found = resolve(files, self._read_history(), connection=self.connection)
        return MigrationStatus(
            current_version=found.current_version,
            applied=found.applied,
            pending=found.pending,
            failed=found.failed,
            problems=(*file_problems, *found.problems),
        )

    def validate(self, *, out_of_order: bool = False) -> None:
        """Raise ``MigrationValidationError`` listing every tampered, missing, out-of-order or
        failed migration; return quietly when ``migrate`` could run."""
        self._check(self.discover(), self._read_history(), out_of_order, None)

    # -- writing --------------------------------------------------------------------------

    def migrate(
        self,
        *,
        target: str | None = None,
        out_of_order: bool = False,
        dry_run: bool = False,
        mixed: bool | None = None,
        placeholders: Mapping[str, str] | None = None,
        placeholder_replacement: bool | None = None,
    ) -> MigrateResult:
        """Apply pending migrations in order, up to ``target`` if given; ``mixed``, when
        given, replaces the migrator's own setting for this run, ``placeholders`` adds values
        (a migrate step's) and ``placeholder_replacement`` replaces the switch.

        A dry run reads the history (if the table exists), validates, and returns what would
        run; it takes no lock and writes nothing, not even the history table.
        """
        if not dry_run:
            self._refuse_if_read_only("migrate")
        limit = _target(target)
        chosen = self.placeholders.overridden(placeholders, placeholder_replacement)
        files = self.discover(chosen)
        if dry_run:
            found = self._check(files, self._read_history(), out_of_order, limit)
            versions = [m.version for m in found.pending if m.version is not None]
            reached = max(versions, default=None)
            current = found.current_version
            if reached is not None and (current is None or reached > Version(current)):
                current = reached.text
            return MigrateResult((), found.pending, found.current_version, current, dry_run=True)
        callbacks = self._replaced_callbacks(discover_callbacks(self.folder), chosen)
        with self._locked():
            self._create_table()
            validate = (Event.BEFORE_VALIDATE, Event.AFTER_VALIDATE, Event.AFTER_VALIDATE_ERROR)
            # Flyway's migrate validates through DbValidate, which fires these around it
            with self._around(callbacks, *validate, errors=(MigrationValidationError,)):
                found = self._check(files, self._read_history(), out_of_order, limit)
            applier = self._applier(self.mixed if mixed is None else mixed, callbacks=callbacks)
            for migration in found.pending:  # a file that cannot run stops all before any runs
                applier.outside_transaction(migration)
            applied: list[AppliedMigration] = []
            try:
                self._callback(callbacks, Event.BEFORE_MIGRATE)
                self._apply_all(applier, callbacks, found.pending, applied)
                self._callback(callbacks, Event.AFTER_MIGRATE)
                if applied:
                    self._callback(callbacks, Event.AFTER_MIGRATE_APPLIED)
            finally:
                self._callback(callbacks, Event.AFTER_MIGRATE_OPERATION_FINISH, quiet=True)
            after = resolve(files, self._read_history()).current_version
        return MigrateResult(tuple(applied), found.pending, found.current_version, after)

    def _apply_all(
        self,
        applier: Applier,
        callbacks: Callbacks,
        pending: tuple[MigrationFile, ...],
        applied: list[AppliedMigration],
    ) -> None:
        """Apply ``pending`` in order, appending to ``applied``; ``afterMigrateError`` runs
        when one fails, ``afterVersioned`` and ``beforeRepeatables`` before the first
        repeatable, as Flyway fires them."""
        versioned = True
        try:
            for migration in pending:
                if versioned and migration.repeatable:
                    versioned = False
                    self._callback(callbacks, Event.AFTER_VERSIONED)
                    self._callback(callbacks, Event.BEFORE_REPEATABLES)
                applied.append(applier.apply(migration, applied))
        except ExecutionError:
            self._callback(callbacks, Event.AFTER_MIGRATE_ERROR, quiet=True)
            raise

    @contextmanager
    def _around(
        self,
        callbacks: Callbacks,
        before: Event,
        after: Event,
        error: Event,
        *,
        errors: tuple[type[Exception], ...] = (ExecutionError,),
    ) -> Iterator[None]:
        """``before``'s callbacks, the body, then ``after``'s; ``error``'s (a failure of theirs
        only logged) when the body raises one of ``errors``, as Flyway's commands fire them."""
        self._callback(callbacks, before)
        try:
            yield
        except errors:
            self._callback(callbacks, error, quiet=True)
            raise
        self._callback(callbacks, after)

    def _callback(self, callbacks: Callbacks, event: Event, *, quiet: bool = False) -> None:
        """Run ``event``'s callbacks in a transaction of their own; ``quiet`` logs a failure
        instead of raising it (an error callback must not hide the error it follows)."""
        if not callbacks.for_event(event):
            return
        try:
            with self._database_errors(), self._transaction() as conn:
                callbacks.run(conn, event, dialect=self.dialect, masker=self.masker)
        except ExecutionError as exc:
            if not quiet:
                raise
            _LOG.warning("%s", exc.message)

    def migrate_on(self, conn: Connection) -> MigrateResult:
        """Create the history table and apply every pending migration on ``conn``, inside the
        caller's transaction: the caller commits all of it or rolls all of it back, so a
        set-up that fails halfway leaves nothing behind (the PostgreSQL state store).

        For databases with transactional DDL only, and no file that runs outside a
        transaction; no lock is taken here: the caller holds one that keeps other migrators out.
        """
        self._refuse_if_read_only("migrate")
        if not self.dialect.transactional_ddl:
            raise MigrationError(f"{self.dialect.name} cannot migrate inside one transaction")
        files = self.discover()
        applier = self._applier(self.mixed, conn)
        for migration in files:
            if applier.outside_transaction(migration):
                raise MigrationError(
                    f"migration {migration.label} ({migration.script}) runs outside a "
                    "transaction, so it cannot join the caller's transaction"
                )
        with self._database_errors():
            self.history.create(conn)
            found = self._check(files, self.history.read(conn), False, None)
        applied: list[AppliedMigration] = []
        for migration in found.pending:
            applied.append(applier.apply(migration, applied))
        with self._database_errors():
            after = resolve(files, self.history.read(conn)).current_version
        return MigrateResult(tuple(applied), found.pending, found.current_version, after)

    def repair(self) -> RepairResult:
        """Remove failed entries and realign applied rows with their files (checksum,
        description, name) after a deliberate change. Missing files are left as they are."""
        self._refuse_if_read_only("repair")
        files = self.discover()
        callbacks = self._replaced_callbacks(discover_callbacks(self.folder), self.placeholders)
        events = (Event.BEFORE_REPAIR, Event.AFTER_REPAIR, Event.AFTER_REPAIR_ERROR)
        with self._locked(), self._around(callbacks, *events):
            with self._database_errors(), self.engine.connect() as conn:
                if not self.history.exists(conn):
                    return RepairResult((), ())
            with self._database_errors(), self._transaction() as conn:
                removed = self.history.remove_failed(conn)
                changed = resolve(files, self.history.read(conn)).changed
                for entry, migration in changed:
                    self.history.realign(conn, entry, migration)
        return RepairResult(tuple(removed), tuple(_realignment(e, m) for e, m in changed))

    def baseline(self, version: str, description: str = "<< Baseline >>") -> None:
        """Mark a database that already has its schema as being at ``version``: files at or
        below it never run. Refused once the history holds anything else."""
        self._refuse_if_read_only("baseline")
        at = _target(version)
        assert at is not None
        callbacks = self._replaced_callbacks(discover_callbacks(self.folder), self.placeholders)
        events = (Event.BEFORE_BASELINE, Event.AFTER_BASELINE, Event.AFTER_BASELINE_ERROR)
        with self._locked(), self._around(callbacks, *events):
            self._create_table()
            history = self._read_history()
            if len(history) == 1 and history[0].is_baseline and history[0].parsed_version == at:
                return  # already baselined there: nothing to do
            if history:
                raise BaselineRefused(
                    f"cannot baseline at {at}: the history table {self.history.table.fullname} "
                    f"already holds {plural(len(history), 'entry', 'entries')}",
                    hint="baseline is for a database no migration has run on yet; use "
                    "`ordo migrate status` to see where it stands",
                )
            with self._database_errors(), self._transaction() as conn:
                self.history.add(
                    conn,
                    None,
                    installed_by=self.installed_by,
                    execution_time=0,
                    success=True,
                    baseline=(at, description),
                )

    # -- plumbing -------------------------------------------------------------------------

    def _check(
        self,
        files: list[MigrationFile],
        history: list[HistoryEntry],
        out_of_order: bool,
        target: Version | None,
    ) -> Resolution:
        found = resolve(
            files, history, out_of_order=out_of_order, target=target, connection=self.connection
        )
        if found.problems:
            raise MigrationValidationError.gathering(found.problems)
        return found

    def _applier(
        self,
        mixed: bool,
        connection: Connection | None = None,
        callbacks: Callbacks | None = None,
    ) -> Applier:
        return Applier(
            self.engine,
            self.dialect,
            self.history,
            self.installed_by,
            self.masker,
            connection,
            mixed=mixed,
            mixed_setting=self.mixed_setting,
            callbacks=callbacks or Callbacks(),
        )

    def _replaced(
        self, files: list[MigrationFile], placeholders: Placeholders | None = None
    ) -> tuple[list[MigrationFile], list[Problem]]:
        schema = self._table_name.schema
        return (placeholders or self.placeholders).apply(
            files,
            table=self.history.table.name,
            default_schema=str(schema) if schema else None,
            database=self._database_values,
        )

    def _replaced_callbacks(self, callbacks: Callbacks, placeholders: Placeholders) -> Callbacks:
        """The callbacks with their ``${placeholders}`` replaced, as the migrations are."""
        schema = self._table_name.schema
        found = placeholders.apply_to_callbacks(
            callbacks.found,
            table=self.history.table.name,
            default_schema=str(schema) if schema else None,
            database=self._database_values,
        )
        for callback in found:  # a file that cannot be split stops all before anything runs
            try:
                split_statements(callback.sql, self.dialect.script_syntax)
            except CopyDataUnterminated as exc:
                raise MigrationFilesInvalid(
                    f"callback {callback.script}: {exc.message}",
                    file=callback.path,
                    line=exc.line,
                    hint=exc.hint,
                ) from exc
        return Callbacks(found)

    def _info_callbacks(self, problems: list[Problem]) -> Callbacks:
        """The callbacks status runs: none where they cannot run (a read-only connection, a
        database file not created yet), and none, with the reason added to ``problems``,
        when one of them cannot be read or has a placeholder without a value."""
        if self.dialect.database_missing(self.engine.url):
            return Callbacks()  # connecting would create the file: status must not
        try:
            found = self._replaced_callbacks(discover_callbacks(self.folder), self.placeholders)
        except MigrationError as exc:
            problems.extend(exc.problems)
            return Callbacks()
        info = [c for c in found.found if c.event in _INFO_EVENTS]
        if self.read_only and info:
            _LOG.warning(
                "not running %s of status (%s): the connection is read-only",
                plural(len(info), "callback"),
                ", ".join(c.script for c in info),
            )
            return Callbacks()
        return found

    def _database_values(self) -> dict[str, str]:
        if self.dialect.database_missing(self.engine.url):  # connecting would create it
            return database_values(None, "sqlite", self.engine.url.username)
        with self._database_errors(), self.engine.connect() as conn:
            return database_values(conn, self.dialect.backend, self.engine.url.username)

    def _read_history(self) -> list[HistoryEntry]:
        if self.dialect.database_missing(self.engine.url):
            return []  # connecting would create the file: a dry run or status must not
        with self._database_errors(), self.engine.connect() as conn:
            return self.history.read(conn) if self.history.exists(conn) else []

    def _create_table(self) -> None:
        with self._database_errors(), self._transaction() as conn:
            self.history.create(conn)

    def _transaction(self) -> AbstractContextManager[Connection]:
        return transaction(self.engine, self.dialect)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = migration_lock(
            self.engine,
            self.dialect,
            self.history.configured,  # not the table found: every process must agree
            lock_dir=self.lock_dir,
            timeout=self.lock_timeout,
            masker=self.masker,
        )
        with self._database_errors(), lock:
            yield

    def _database_errors(self) -> AbstractContextManager[None]:
        return database_errors(masker=self.masker)

    def _refuse_if_read_only(self, action: str) -> None:
        if self.read_only:
            raise MigrationReadOnly(
                f"cannot {action}: the connection is read-only",
                hint="migrations change the database; use a connection without _READ_ONLY, "
                "or `ordo migrate --dry-run` to see what would run",
            )


def _realignment(entry: HistoryEntry, migration: MigrationFile) -> Realignment:
    return Realignment(
        version=entry.version,
        script=migration.script,
        old_checksum=entry.checksum,
        new_checksum=migration.checksum,
        old_description=entry.description,
        new_description=migration.description,
    )


def _target(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text.strip())
    except ValueError as exc:
        raise MigrationError(f"{text!r} is not a migration version", hint=str(exc)) from exc


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "ordo"


@contextmanager
def migrator_for(settings: Settings, name: str) -> Iterator[Migrator]:
    """A ``Migrator`` for connection ``name`` on an engine of its own, closed afterwards."""
    connection = settings.connection(name)
    with EngineRegistry() as engines:
        yield Migrator.for_connection(engines.for_connection(connection), connection, settings)
