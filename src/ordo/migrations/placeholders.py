"""Flyway's placeholders: ``${name}`` in a migration replaced by a configured value.

Values come from the connection's ``{ENV}_GLOBAL_{NAME}_PLACEHOLDERS_<KEY>`` settings and a
migrate step's ``placeholders:`` map (the step's win). Names match ignoring case, since a
setting's name is upper case and Flyway's own environment variables are read lower case.
Flyway's built-ins are known too: ``${flyway:user}``, ``${flyway:database}`` and
``${flyway:defaultSchema}`` ask the database (only when a file uses one), ``${flyway:table}``
is the history table's name, ``${flyway:filename}`` the file's name and
``${flyway:timestamp}`` the time of the run (``yyyy-MM-dd HH:mm:ss``, as Flyway writes it).

The rules are Flyway's (``PlaceholderReplacingReader``, ``SqlMigrationResolver``):

- the whole text is replaced, comments included, before it is split into statements;
- a ``${...}`` left without a value is an error naming the file, the line and the name, raised
  before any migration runs (Flyway: "No value provided for placeholder");
- a versioned migration keeps the checksum of the file as written, so a value may change
  without the file counting as edited; a repeatable's checksum is that of the replaced text,
  so it runs again when one of its values changes;
- ``placeholder_replacement`` false (``_MIGRATIONS_PLACEHOLDER_REPLACEMENT=false``, or the
  step option) runs every file as written.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, text

from ordo.errors import Problem
from ordo.migrations.callbacks import SqlCallback
from ordo.migrations.errors import MigrationError
from ordo.migrations.files import MigrationFile, checksum

__all__ = [
    "BUILT_INS",
    "DATABASE_BUILT_INS",
    "MigrationPlaceholderMissing",
    "Placeholders",
    "database_values",
]

_PLACEHOLDER = re.compile(r"\$\{(.+?)\}")  # Flyway's: the shortest text up to "}", one line
DATABASE_BUILT_INS = ("flyway:user", "flyway:database", "flyway:defaultschema")
BUILT_INS = (*DATABASE_BUILT_INS, "flyway:table", "flyway:filename", "flyway:timestamp")
_SHOWN_BUILT_INS = ", ".join(
    "${flyway:" + n + "}"
    for n in ("user", "database", "defaultSchema", "table", "filename", "timestamp")
)

# the current user, database and schema, as Flyway's Database classes read them
_DATABASE_QUERIES = {
    "postgresql": "SELECT current_user, current_database(), current_schema()",
    "mysql": "SELECT SUBSTRING_INDEX(USER(), '@', 1), DATABASE(), DATABASE()",
    "duckdb": "SELECT '', current_database(), current_schema()",
    "mssql": "SELECT SUSER_SNAME(), DB_NAME(), SCHEMA_NAME()",
    "oracle": "SELECT USER, SYS_CONTEXT('USERENV', 'DB_NAME'), "
    "SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM dual",
}


class MigrationPlaceholderMissing(MigrationError):
    """A migration uses a ``${placeholder}`` that has no value; nothing ran."""


@dataclass(frozen=True)
class Placeholders:
    """The values ``${name}`` stands for, and whether to replace at all.

    ``setting`` is the prefix of the settings that give values (for hints), ``switch`` the
    setting that turns replacement off."""

    values: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    setting: str = "{ENV}_GLOBAL_{NAME}_PLACEHOLDERS_"
    switch: str = "{ENV}_GLOBAL_{NAME}_MIGRATIONS_PLACEHOLDER_REPLACEMENT"

    def overridden(
        self, values: Mapping[str, str] | None = None, enabled: bool | None = None
    ) -> Placeholders:
        """These placeholders with a step's ``values`` added (winning) and its switch."""
        merged = {**self.values, **(values or {})}
        return dataclasses.replace(
            self, values=merged, enabled=self.enabled if enabled is None else enabled
        )

    def apply(
        self,
        files: list[MigrationFile],
        *,
        table: str,
        database: Callable[[], Mapping[str, str]],
        default_schema: str | None = None,
        now: datetime | None = None,
    ) -> tuple[list[MigrationFile], list[Problem]]:
        """``files`` with their placeholders replaced, and a problem for each name without a
        value (its file is kept as written). ``database`` gives the database's built-ins; it
        is called only if a file uses one; ``default_schema``, the history table's schema
        when it names one, is ``${flyway:defaultSchema}`` (Flyway keeps its table there)."""
        if not self.enabled:
            return list(files), []
        known = self._known(
            [m.sql for m in files],
            table=table,
            database=database,
            default_schema=default_schema,
            now=now,
        )
        replaced: list[MigrationFile] = []
        problems: list[Problem] = []
        for migration in files:
            known["flyway:filename"] = migration.path.name
            sql, missing = _replace(migration.sql, known)
            if missing:
                problems.extend(self._problem(migration, name, line) for name, line in missing)
                replaced.append(migration)
                continue
            new_checksum = checksum(sql) if migration.repeatable else migration.checksum
            replaced.append(dataclasses.replace(migration, sql=sql, checksum=new_checksum))
        return replaced, problems

    def apply_to_callbacks(
        self,
        callbacks: Sequence[SqlCallback],
        *,
        table: str,
        database: Callable[[], Mapping[str, str]],
        default_schema: str | None = None,
    ) -> list[SqlCallback]:
        """Callbacks with their placeholders replaced, as Flyway replaces them; a name without
        a value raises ``MigrationPlaceholderMissing`` (callbacks run under the lock, after the
        migrations were checked, so this is still before anything is applied)."""
        if not self.enabled or not callbacks:
            return list(callbacks)
        known = self._known(
            [c.sql for c in callbacks],
            table=table,
            database=database,
            default_schema=default_schema,
        )
        replaced: list[SqlCallback] = []
        for callback in callbacks:
            known["flyway:filename"] = callback.path.name
            sql, missing = _replace(callback.sql, known)
            if missing:
                name, line = missing[0]
                raise MigrationPlaceholderMissing(
                    f"callback {callback.script} uses the placeholder ${{{name}}} on line {line}, "
                    "which has no value",
                    file=callback.path,
                    line=line,
                    hint=f"set {self.setting}{_setting_key(name)} (or "
                    f"`placeholders: {{{name}: ...}}` on the migrate step)",
                )
            replaced.append(dataclasses.replace(callback, sql=sql))
        return replaced

    def _known(
        self,
        texts: Sequence[str],
        *,
        table: str,
        database: Callable[[], Mapping[str, str]],
        default_schema: str | None = None,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """The values by lower-case name, the built-ins included; the database is asked only
        when one of ``texts`` uses one of its built-ins."""
        known = {name.lower(): value for name, value in self.values.items()}
        known["flyway:table"] = table
        known["flyway:timestamp"] = (now or datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
        if any(
            m.group(1).lower() in DATABASE_BUILT_INS
            for text in texts
            for m in _PLACEHOLDER.finditer(text)
        ):
            known.update({k.lower(): v for k, v in database().items()})
        if default_schema is not None:
            known["flyway:defaultschema"] = default_schema
        return known

    def check(self, files: list[MigrationFile]) -> list[Problem]:
        """A problem for each placeholder without a value, built-ins counted as known: what
        can be told without the database (a manifest's plan)."""
        if not self.enabled:
            return []
        known = {name.lower() for name in self.values} | set(BUILT_INS)
        return [
            self._problem(migration, name, line)
            for migration in files
            for name, line in _missing(migration.sql, known)
        ]

    def _problem(self, migration: MigrationFile, name: str, line: int) -> Problem:
        if name.lower().startswith("flyway:"):
            hint = f"the built-in placeholders are {_SHOWN_BUILT_INS}"
        else:
            hint = (
                f"set {self.setting}{_setting_key(name)} (or `placeholders: {{{name}: ...}}` on "
                f"the migrate step), or {self.switch}=false to run the files as written"
            )
        return Problem(
            f"migration {migration.label} ({migration.script}) uses the placeholder "
            f"${{{name}}} on line {line}, which has no value",
            migration.path,
            line=line,
            hint=hint,
        )


def _uses_database(texts: Sequence[str]) -> bool:
    return any(
        m.group(1).lower() in DATABASE_BUILT_INS
        for text in texts
        for m in _PLACEHOLDER.finditer(text)
    )


def _setting_key(name: str) -> str:
    return re.sub(r"\W", "_", name).upper()


def _replace(sql: str, known: Mapping[str, str]) -> tuple[str, list[tuple[str, int]]]:
    missing = _missing(sql, known.keys())
    if missing:
        return sql, missing
    return _PLACEHOLDER.sub(lambda m: known[m.group(1).lower()], sql), []


def _missing(sql: str, known: Collection[str]) -> list[tuple[str, int]]:
    """``(name, line)`` of the first use of each placeholder not in ``known`` (lower case)."""
    seen: dict[str, int] = {}
    for m in _PLACEHOLDER.finditer(sql):
        name = m.group(1)
        if name.lower() not in known and name not in seen:
            seen[name] = sql.count("\n", 0, m.start()) + 1
    return list(seen.items())


def database_values(conn: Connection | None, backend: str, url_user: str | None) -> dict[str, str]:
    """``flyway:user``, ``flyway:database`` and ``flyway:defaultSchema`` of the session on
    ``conn`` (SQLite has no user and one database, ``main``, as in Flyway)."""
    query = _DATABASE_QUERIES.get(backend)
    if query is None or conn is None:
        user, database, schema = url_user or "", "main", "main"
    else:
        user, database, schema = conn.execute(text(query)).one()
    return {
        "flyway:user": str(user or ""),
        "flyway:database": str(database or ""),
        "flyway:defaultSchema": str(schema or ""),
    }
