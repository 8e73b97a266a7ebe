"""Flyway's SQL callbacks: files in the migrations folder named after a moment of a command.

A callback is ``<event>.sql`` or ``<event>__<description>.sql`` anywhere under the folder
(``beforeMigrate.sql``, ``afterEachMigrate__audit.sql``). Several for one event run in
Flyway's order: the one without a description first, then by description. Two with the same
name in different subfolders are an error, as in Flyway. Callbacks are never recorded in the
history and have no checksum: they run every time their moment comes.

The moments ordo runs, as Flyway 7 does (its ``Event`` enum):

- ``beforeMigrate``: after the files are validated, under the lock, before the first migration
  (also when nothing is pending); its own transaction;
- ``beforeEachMigrate``, ``afterEachMigrate``: around each migration's statements, in the
  migration's transaction (so on PostgreSQL they commit or roll back with it), before its
  history row is written;
- ``afterEachMigrateError``: after a migration failed. Flyway fires it inside the failed
  transaction, where PostgreSQL refuses any statement; ordo runs it just after the rollback,
  in a transaction of its own, so what it writes is kept on every database;
- ``afterVersioned`` then ``beforeRepeatables``: once, before the first pending repeatable;
- ``afterMigrate``, and ``afterMigrateApplied`` when at least one migration was applied: after
  a migrate that succeeded; ``afterMigrateError``: after one that failed while migrations ran;
- ``afterMigrateOperationFinish``: last, whether the migrate succeeded or failed.

And of the other commands, as Flyway 7's ``DbValidate``, ``DbRepair``, ``DbBaseline`` and
``DbInfo`` fire them, each in a transaction of its own:

- ``beforeValidate``, then ``afterValidate`` or ``afterValidateError``: around the validation
  ``migrate`` does first (Flyway's migrate validates through ``DbValidate`` when
  ``validateOnMigrate`` is on, its default), so before ``beforeMigrate``;
- ``beforeRepair``, then ``afterRepair`` or ``afterRepairError``: around ``migrate repair``;
- ``beforeBaseline``, then ``afterBaseline`` or ``afterBaselineError``: around ``migrate
  baseline`` (a refused baseline is an error);
- ``beforeInfo``, then ``afterInfo`` or ``afterInfoError``: around ``migrate status``, which
  otherwise writes nothing.

Not run, with a warning naming the files: the statement-level events
(``beforeEachMigrateStatement``, ``afterEachMigrateStatement``,
``afterEachMigrateStatementError``), which Flyway 7 runs in its paid Teams edition only, so a
folder that works with Flyway's free edition never relied on them; the events of commands ordo
does not have (clean's, undo's, ``createSchema``); and ``afterInfoOperationFinish``. Either
way the file is known as a callback, so it is never taken for a misnamed migration.

A failing callback stops its command (a ``before...`` one before the command's work) like a
failing migration stops the migrate, and its error names the callback file, the statement
number and its line. A failing error callback (``afterEachMigrateError``, ``afterMigrateError``,
``afterRepairError``, ...) is logged, and the command's own error is the one raised.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from sqlalchemy import Connection

from ordo._words import plural
from ordo.db.dialects import Dialect
from ordo.db.errors import database_errors
from ordo.db.statements import Statement, split_statements
from ordo.errors import ExecutionError, Problem
from ordo.masking import Masker
from ordo.migrations._walk import files_under
from ordo.migrations.errors import MigrationError, MigrationFilesInvalid

__all__ = [
    "CallbackFailed",
    "Callbacks",
    "Event",
    "SqlCallback",
    "callback_event",
    "discover_callbacks",
]

_LOG = logging.getLogger("ordo")
_SQL = re.compile(r"(?P<stem>.+)\.(?i:sql)")


class Event(Enum):
    """The moments a callback file can be named after that ordo runs (Flyway's ids)."""

    BEFORE_MIGRATE = "beforeMigrate"
    BEFORE_EACH_MIGRATE = "beforeEachMigrate"
    AFTER_EACH_MIGRATE = "afterEachMigrate"
    AFTER_EACH_MIGRATE_ERROR = "afterEachMigrateError"
    AFTER_VERSIONED = "afterVersioned"
    BEFORE_REPEATABLES = "beforeRepeatables"
    AFTER_MIGRATE = "afterMigrate"
    AFTER_MIGRATE_APPLIED = "afterMigrateApplied"
    AFTER_MIGRATE_ERROR = "afterMigrateError"
    AFTER_MIGRATE_OPERATION_FINISH = "afterMigrateOperationFinish"
    BEFORE_VALIDATE = "beforeValidate"
    AFTER_VALIDATE = "afterValidate"
    AFTER_VALIDATE_ERROR = "afterValidateError"
    BEFORE_BASELINE = "beforeBaseline"
    AFTER_BASELINE = "afterBaseline"
    AFTER_BASELINE_ERROR = "afterBaselineError"
    BEFORE_REPAIR = "beforeRepair"
    AFTER_REPAIR = "afterRepair"
    AFTER_REPAIR_ERROR = "afterRepairError"
    BEFORE_INFO = "beforeInfo"
    AFTER_INFO = "afterInfo"
    AFTER_INFO_ERROR = "afterInfoError"


_ORDER = {event: rank for rank, event in enumerate(Event)}

# Flyway's other event ids: recognised as callbacks, never run by ordo (module docstring).
_NOT_RUN = frozenset(
    {
        "beforeEachMigrateStatement",
        "afterEachMigrateStatement",
        "afterEachMigrateStatementError",
        "beforeClean",
        "afterClean",
        "afterCleanError",
        "beforeUndo",
        "beforeEachUndo",
        "beforeEachUndoStatement",
        "afterEachUndoStatement",
        "afterEachUndoStatementError",
        "afterEachUndo",
        "afterEachUndoError",
        "afterUndo",
        "afterUndoError",
        "afterInfoOperationFinish",
        "createSchema",
    }
)
_RUN = {event.value: event for event in Event}


def callback_event(name: str) -> Event | str | None:
    """The event a file name stands for: an ``Event`` ordo runs, the id (a ``str``) of one it
    does not run, or None when ``name`` is not a callback. Cut at the first ``__``, as
    Flyway's ``SqlScriptCallbackFactory`` does."""
    match = _SQL.fullmatch(name)
    if match is None:
        return None
    event_id = match["stem"].split("__", 1)[0]
    if event_id in _RUN:
        return _RUN[event_id]
    return event_id if event_id in _NOT_RUN else None


@dataclass(frozen=True)
class SqlCallback:
    """One callback file as read: ``script`` is its path relative to the migrations folder."""

    event: Event
    description: str | None
    path: Path
    script: str
    sql: str = field(repr=False)

    def order(self) -> tuple[int, int, str]:
        return _ORDER[self.event], self.description is not None, self.description or ""


class CallbackFailed(MigrationError):
    """A statement of a callback failed; ``cause`` is the database's error."""

    def __init__(
        self, message: str, *, callback: SqlCallback, statement: Statement, cause: ExecutionError
    ) -> None:
        super().__init__(
            message,
            file=callback.path,
            line=statement.line,
            hint=f"fix {callback.script}, then run the command again",
        )
        self.callback = callback
        self.statement = statement
        self.cause = cause

    @property
    def where(self) -> str:
        """``callback beforeEachMigrate.sql statement 2 (line 3: INSERT ...)``."""
        st = self.statement
        where = f"statement {st.number} (line {st.line}: {st.first_line})"
        return f"callback {self.callback.script} {where}"


@dataclass(frozen=True)
class Callbacks:
    """The callbacks of one migrations folder, by event, in run order."""

    found: Sequence[SqlCallback] = ()

    def for_event(self, event: Event) -> list[SqlCallback]:
        return [callback for callback in self.found if callback.event is event]

    def run(
        self,
        conn: Connection,
        event: Event,
        *,
        dialect: Dialect,
        masker: Masker,
        autocommit: bool = False,
    ) -> None:
        """Run ``event``'s callbacks on ``conn`` in the caller's transaction; with
        ``autocommit`` each statement in a ``begin()`` of its own, as a file outside a
        transaction runs. Raises ``CallbackFailed`` naming the statement that failed."""
        for callback in self.for_event(event):
            _LOG.info("running callback %s", callback.script)
            for statement in split_statements(callback.sql, dialect.script_syntax):
                try:
                    with database_errors(masker=masker):
                        if autocommit:
                            with conn.begin():
                                dialect.run_statement(conn, statement.sql, statement.copy_data)
                        else:
                            dialect.run_statement(conn, statement.sql, statement.copy_data)
                except ExecutionError as exc:
                    st = statement
                    raise CallbackFailed(
                        f"callback {callback.script} failed at statement {st.number} "
                        f"(line {st.line}: {st.first_line}): {exc.message}",
                        callback=callback,
                        statement=st,
                        cause=exc,
                    ) from exc


def discover_callbacks(folder: Path) -> Callbacks:
    """The callbacks under ``folder`` (subfolders too; hidden ones left out, as the migration
    scan does). Raises ``MigrationFilesInvalid`` for two of one name or an unreadable one;
    logs one warning naming the callback files ordo does not run."""
    found: list[SqlCallback] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    not_run: list[str] = []
    for script, path in files_under(folder):
        event = callback_event(path.name)
        if event is None:
            continue
        if isinstance(event, str):
            not_run.append(script)
            continue
        stem = path.name[: -len(".sql")]
        if stem in seen:
            message = f"2 callbacks have the same name {stem}: {seen[stem]}, {script}"
            problems.append(Problem(message, path, hint="keep one of them, or rename one"))
            continue
        seen[stem] = script
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            message = f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            problems.append(Problem(message, path, hint="save the file as UTF-8"))
            continue
        except OSError as exc:
            problems.append(Problem(f"cannot read {path.name}: {exc.strerror}", path))
            continue
        _, _, description = stem.partition("__")
        has_description = "__" in stem
        found.append(
            SqlCallback(event, description if has_description else None, path, script, text)
        )
    if problems:
        raise MigrationFilesInvalid.gathering(problems)
    if not_run:
        _LOG.warning(
            "not running %s in %s: %s (ordo runs the callbacks of migrate, validate, repair, "
            "baseline and info, not statement-level ones nor those of clean and undo)",
            plural(len(not_run), "callback"),
            folder,
            ", ".join(not_run),
        )
    return Callbacks(tuple(sorted(found, key=SqlCallback.order)))
