"""Compare the files on disk with the history: what is applied, pending, tampered or missing.

Pure functions over ``MigrationFile`` and ``HistoryEntry`` lists, so every rule is tested
without a database and ``status``, ``validate``, ``migrate`` and ``repair`` all judge the
same way. The rules are Flyway's:

- an applied versioned migration whose file changed (checksum or description) is tampered;
  the description compared is the one the history can hold (abbreviated past 200
  characters, as it was stored), and so are a repeatable's and the script name;
- an applied version with no file on disk is missing;
- a failed entry (``success = false``) blocks everything until ``repair`` removes it;
- a file with a version below the current one that was never applied is out of order: an
  error unless ``out_of_order`` is allowed;
- files at or below a baseline are never run;
- a repeatable runs when it was never applied or its checksum differs from its last
  successful run (a repeatable whose file was deleted is not an error: nothing needs it);
- ``target`` leaves out versioned files above it (repeatables still run, as in Flyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from ordo.errors import Problem
from ordo.migrations.files import MigrationFile, Version
from ordo.migrations.history import HistoryEntry

__all__ = ["Resolution", "current_version", "resolve"]


def _command(action: str, connection: str | None) -> str:
    """``ordo migrate repair app``: the command to type, naming the connection when known (a
    bare ``ordo migrate repair`` works on 'default', which may be another database)."""
    option = action.startswith("-")
    words = [
        "ordo",
        "migrate",
        "" if option else action,
        connection or "",
        action if option else "",
    ]
    return "`" + " ".join(w for w in words if w) + "`"


def _repair(connection: str | None) -> str:
    return f"if the change was deliberate, run {_command('repair', connection)} to accept it"


@dataclass(frozen=True)
class Resolution:
    """What the files and the history say together."""

    pending: tuple[MigrationFile, ...]  # what migrate would run, in order
    problems: tuple[Problem, ...]  # each one blocks migrate
    applied: tuple[HistoryEntry, ...]  # successful rows, in installation order
    failed: tuple[HistoryEntry, ...]
    current_version: str | None
    # (applied row, file on disk) pairs whose checksum, description or name differ
    changed: tuple[tuple[HistoryEntry, MigrationFile], ...] = ()


def current_version(history: list[HistoryEntry]) -> HistoryEntry | None:
    """The successful versioned or baseline row with the highest version."""
    best: tuple[Version, HistoryEntry] | None = None
    for entry in history:
        version = entry.parsed_version
        usable = entry.success and (entry.is_versioned or entry.is_baseline)
        if usable and version is not None and (best is None or version >= best[0]):
            best = (version, entry)
    return best[1] if best else None


def resolve(
    files: list[MigrationFile],
    history: list[HistoryEntry],
    *,
    out_of_order: bool = False,
    target: Version | None = None,
    connection: str | None = None,
) -> Resolution:
    """What ``files`` and ``history`` say together; hints name ``connection`` when given."""
    applied = [e for e in history if e.success]
    failed = [e for e in history if not e.success]
    problems = [_failed_problem(e, files, connection) for e in failed]
    current = current_version(history)
    top = current.parsed_version if current else None
    baseline = max(
        (v for e in applied if e.is_baseline and (v := e.parsed_version) is not None),
        default=None,
    )

    by_version = {m.version: m for m in files if m.version is not None}
    done: set[Version] = set()
    changed: list[tuple[HistoryEntry, MigrationFile]] = []
    for entry in applied:
        version = entry.parsed_version
        if not entry.is_versioned or version is None:
            continue
        done.add(version)
        migration = by_version.get(version)
        if migration is None:
            problems.append(_missing_problem(entry))
            continue
        if (entry.checksum, entry.description, entry.script) != (
            migration.checksum,
            migration.recorded_description,
            migration.recorded_script,
        ):
            changed.append((entry, migration))
        problems.extend(_tampered_problems(entry, migration, connection))

    failed_versions = {v for e in failed if (v := e.parsed_version) is not None}
    pending: list[MigrationFile] = []
    for migration in files:
        version = migration.version
        if version is None or version in done or version in failed_versions:
            continue
        if (baseline is not None and version <= baseline) or (target and version > target):
            continue
        if top is not None and version < top and not out_of_order:
            problems.append(_out_of_order_problem(migration, top, connection))
        pending.append(migration)

    last_run: dict[str, HistoryEntry] = {}
    for entry in applied:
        if entry.is_repeatable:
            last_run[entry.description] = entry
    failed_repeatables = {e.description for e in failed if e.is_repeatable}
    for migration in files:
        described = migration.recorded_description
        if migration.version is not None or described in failed_repeatables:
            continue
        previous = last_run.get(described)
        if previous is None or previous.checksum != migration.checksum:
            pending.append(migration)

    return Resolution(
        pending=tuple(pending),
        problems=tuple(problems),
        applied=tuple(applied),
        failed=tuple(failed),
        current_version=current.version if current else None,
        changed=tuple(changed),
    )


def _failed_problem(
    entry: HistoryEntry, files: list[MigrationFile], connection: str | None
) -> Problem:
    path = next((m.path for m in files if m.recorded_script == entry.script), None)
    label = f"V{entry.version}" if entry.version else f'R "{entry.description}"'
    return Problem(
        f"migration {label} ({entry.script}) failed on {entry.installed_on:%Y-%m-%d %H:%M} "
        "and may be partly applied; nothing runs until the failed entry is removed"
        if entry.installed_on
        else f"migration {label} ({entry.script}) failed and may be partly applied",
        file=path,
        hint="undo what it did by hand if needed, fix the file, then run "
        f"{_command('repair', connection)} to remove the failed entry and "
        f"{_command('', connection)} to run it again",
    )


def _missing_problem(entry: HistoryEntry) -> Problem:
    return Problem(
        f"migration V{entry.version} ({entry.script}) was applied but its file is missing",
        hint="restore the file; migrations that ran must stay in the folder",
    )


def _tampered_problems(
    entry: HistoryEntry, migration: MigrationFile, connection: str | None
) -> list[Problem]:
    problems = []
    if entry.checksum != migration.checksum:
        problems.append(
            Problem(
                f"migration V{entry.version} ({migration.script}) changed after it was applied "
                f"(checksum {entry.checksum} in the history, {migration.checksum} on disk)",
                file=migration.path,
                hint=f"restore the file as it was applied; {_repair(connection)}",
            )
        )
    if entry.description != migration.recorded_description:
        problems.append(
            Problem(
                f"migration V{entry.version} was applied as {entry.description!r} but the "
                f"file is now named {migration.script}",
                file=migration.path,
                hint=f"rename the file back; {_repair(connection)}",
            )
        )
    return problems


def _out_of_order_problem(
    migration: MigrationFile, current: Version, connection: str | None
) -> Problem:
    return Problem(
        f"migration V{migration.version} ({migration.script}) is new but older than the "
        f"current version {current}",
        file=migration.path,
        hint="give it a version above the current one, or run "
        f"{_command('--out-of-order', connection)} to apply it anyway",
    )
