"""Migration files on disk: names, versions, Flyway's checksum, and the folder scan.

Names follow Flyway's defaults so that a Flyway or Pyway folder works unchanged:

- ``V<version>__<description>.sql``: versioned, run once, in version order;
- ``R__<description>.sql``: repeatable, run after the versioned ones, ordered by description,
  again whenever its checksum changes.

As in Flyway's ``ResourceNameParser``, the name is cut at the first ``__``: what is before it
is the version, what follows the description. With no ``__`` the whole name is the version and
the description is empty, so ``V2.sql`` and ``V1__.sql`` are versions 2 and 1 with the
description ``""`` (and ``R.sql``, ``R__.sql`` a repeatable with an empty one).

Versions are digits separated by ``.`` or ``_`` (``1``, ``001``, ``1.2``, ``2_1``) and compare
as tuples of integers with trailing zeros ignored, as Flyway does: ``1.10`` comes after
``1.9``, and ``001``, ``1`` and ``1.0`` are the same version. Underscores in a description
become spaces. The history stores a description of at most 200 characters and a script name
of at most 1000, abbreviated as Flyway's ``AbbreviationUtils`` does; the same abbreviation is
what a file is compared with, so a long name validates on the next run.

The scan is recursive, as Flyway's: ``base/V1__first.sql`` is recorded by its path relative
to the migrations folder (with ``/``), and its version comes from the file name alone, so two
files of one version in different subfolders are a duplicate like any other. A ``.sql`` file
that starts like a migration but is misnamed (``V1_create.sql``, ``R1__x.sql``) is an error,
because skipping it would skip a migration. Every other file (``notes.txt``, ``v2__lower.sql``,
``README.md``: Flyway's prefixes are case-sensitive) is ignored with a warning naming it;
only hidden files and folders (``.gitkeep``, ``.git/``) are passed over without one, and
Flyway's SQL callbacks (``beforeMigrate.sql``: ``callbacks.py``), which are not migrations.
"""

from __future__ import annotations

import functools
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ordo._words import plural
from ordo.errors import Problem
from ordo.migrations._walk import files_under
from ordo.migrations.callbacks import callback_event
from ordo.migrations.errors import MigrationFilesInvalid

__all__ = [
    "MigrationFile",
    "Version",
    "abbreviate_description",
    "abbreviate_script",
    "checksum",
    "discover",
    "parse_name",
    "read_migration",
    "run_order",
    "scan",
]

_VERSION = re.compile(r"\d+(?:[._]\d+)*")
_VERSIONED = re.compile(r"V(?P<version>\d+(?:[._]\d+)*)(?:__(?P<description>.*))?\.(?i:sql)")
_REPEATABLE = re.compile(r"R(?:__(?P<description>.*))?\.(?i:sql)")
# Flyway's prefix (case-sensitive) followed by what can only be a version or a separator.
_LOOKS_LIKE = re.compile(r"[VR](?:[\d_.].*)?\.(?i:sql)")
_DESCRIPTION_LENGTH = 200  # the history's column, as in Flyway
_SCRIPT_LENGTH = 1000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NO_TRANSACTION = re.compile(r"--\s*ordo:no-transaction\s*", re.I)
_LOG = logging.getLogger("ordo")
_IGNORED_HINT = (
    "a file meant to run must be named V<version>__<description>.sql or "
    "R__<description>.sql, with an upper-case V or R"
)
_NAMING_HINT = (
    "name it V<version>__<description>.sql (e.g. V001__create_users.sql) or R__<description>.sql"
)


@functools.total_ordering
class Version:
    """A migration version: ``text`` as shown and stored (``_`` written as ``.``, Flyway's
    display form: ``2_1`` -> ``2.1``, ``003`` stays ``003``), compared by its numbers."""

    __slots__ = ("key", "parts", "text")

    def __init__(self, text: str) -> None:
        if not _VERSION.fullmatch(text):
            raise ValueError(f"{text!r} is not a version: use digits separated by . or _")
        self.text = text.replace("_", ".")
        self.parts = tuple(int(part) for part in self.text.split("."))
        key = list(self.parts)
        while len(key) > 1 and key[-1] == 0:
            key.pop()
        self.key = tuple(key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


@dataclass(frozen=True)
class MigrationFile:
    """One migration as read from disk. ``sql`` is the text that was checksummed, so what runs
    is exactly what was validated even if the file changes meanwhile."""

    path: Path
    version: Version | None  # None for a repeatable migration
    description: str
    checksum: int
    no_transaction: bool = False
    sql: str = field(default="", repr=False, compare=False)
    # the path relative to the migrations folder, with "/" (``base/V1__first.sql``), as
    # Flyway records it; the file name when not given
    script: str = ""

    def __post_init__(self) -> None:
        if not self.script:
            object.__setattr__(self, "script", self.path.name)

    @property
    def recorded_description(self) -> str:
        """The description as the history holds it (at most 200 characters)."""
        return abbreviate_description(self.description)

    @property
    def recorded_script(self) -> str:
        """The script name as the history holds it (at most 1000 characters)."""
        return abbreviate_script(self.script)

    @property
    def repeatable(self) -> bool:
        return self.version is None

    @property
    def label(self) -> str:
        """``V3`` or ``R "views"``: how messages name the migration."""
        return f"V{self.version}" if self.version else f'R "{self.description}"'


def checksum(text: str) -> int:
    """Flyway's checksum: CRC32 over each line's UTF-8 bytes, line endings and BOM left out.

    Lines are split on ``\\n``, ``\\r\\n`` and ``\\r`` exactly as Java's ``readLine`` does, so
    the same file checked out with LF or CRLF endings validates either way. The result is the
    signed 32-bit integer Flyway stores (``(int) crc32.getValue()``).
    """
    text = text.removeprefix("\ufeff")
    crc = 0
    for line in _LINE_BREAK.split(text):
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def abbreviate_description(description: str) -> str:
    """Flyway's rule for the history's 200-character column: the first 197 and ``...``."""
    if len(description) <= _DESCRIPTION_LENGTH:
        return description
    return description[: _DESCRIPTION_LENGTH - 3] + "..."


def abbreviate_script(script: str) -> str:
    """Flyway's rule for the 1000-character ``script`` column: ``...`` then characters 3 to
    1000 (the start is what gives way, as Flyway writes it)."""
    if len(script) <= _SCRIPT_LENGTH:
        return script
    return "..." + script[3:_SCRIPT_LENGTH]


def parse_name(name: str) -> tuple[Version | None, str] | None:
    """``(version, description)`` for a migration file name (version None for a repeatable);
    None for a file that is not a migration; ``ValueError`` for one that is misnamed."""
    if match := _VERSIONED.fullmatch(name):
        return Version(match["version"]), (match["description"] or "").replace("_", " ")
    if match := _REPEATABLE.fullmatch(name):
        return None, (match["description"] or "").replace("_", " ")
    if _LOOKS_LIKE.fullmatch(name):
        raise ValueError(f"{name} is not a valid migration name")
    return None


def read_migration(
    path: Path, version: Version | None, description: str, script: str = ""
) -> MigrationFile:
    """Read one file as UTF-8 (a BOM allowed); raises ``UnicodeDecodeError`` or ``OSError``.
    ``script`` is its name relative to the migrations folder (the file name if not given)."""
    text = path.read_bytes().decode("utf-8")
    text = text.removeprefix("\ufeff")
    first = _LINE_BREAK.split(text, maxsplit=1)[0]
    return MigrationFile(
        path=path,
        version=version,
        description=description,
        checksum=checksum(text),
        no_transaction=bool(_NO_TRANSACTION.fullmatch(first.strip())),
        sql=text,
        script=script,
    )


def scan(folder: Path) -> tuple[list[MigrationFile], list[Problem]]:
    """Every migration in ``folder`` in run order, and every problem found, without raising.

    Subfolders are scanned too. Run order: versioned files by version, then repeatables by
    description. Two files with the same version (``V1__a.sql``, ``base/V001__b.sql``) or the
    same repeatable description are a problem naming both, and neither is returned. Files
    that are not migrations are logged as one warning naming them (see the module docstring).
    """
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        return [], [
            Problem(
                f"migration folder {folder} {what}",
                file=folder,
                hint="create it, or point the connection's _MIGRATIONS setting at the right one",
            )
        ]
    problems: list[Problem] = []
    found: list[MigrationFile] = []
    ignored: list[str] = []
    for script, path in files_under(folder):
        try:
            parsed = parse_name(path.name)
        except ValueError as exc:
            problems.append(Problem(str(exc), path, hint=_NAMING_HINT))
            continue
        if parsed is None:
            if callback_event(path.name) is None:  # a callback is known, not ignored
                ignored.append(script)
            continue
        try:
            found.append(read_migration(path, *parsed, script=script))
        except UnicodeDecodeError as exc:
            message = f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            problems.append(Problem(message, path, hint="save the file as UTF-8"))
        except OSError as exc:
            problems.append(Problem(f"cannot read {path.name}: {exc.strerror}", path))
    if ignored:
        _LOG.warning(
            "ignored %s in %s, not named as migrations: %s (%s)",
            plural(len(ignored), "file"),
            folder,
            ", ".join(ignored),
            _IGNORED_HINT,
        )
    return _drop_duplicates(found, problems), problems


def _drop_duplicates(found: list[MigrationFile], problems: list[Problem]) -> list[MigrationFile]:
    by_key: dict[Version | str, list[MigrationFile]] = {}
    for migration in found:
        by_key.setdefault(migration.version or migration.description, []).append(migration)
    kept: list[MigrationFile] = []
    for key, group in by_key.items():
        repeatable = isinstance(key, str)
        if len(group) == 1:
            kept.append(group[0])
            continue
        names = ", ".join(m.script for m in group)
        what = f'description "{key}"' if repeatable else f"version {group[0].version}"
        hint = "give each file its own version (1, 01 and 1.0 are the same version)"
        if repeatable:
            hint = "give each repeatable migration its own description"
        message = f"{len(group)} migrations have the same {what}: {names}"
        problems.append(Problem(message, group[0].path, hint=hint))
    return sorted(kept, key=run_order)


def run_order(migration: MigrationFile) -> tuple[int, tuple[int, ...], str]:
    """Versioned migrations by version, then repeatables by description."""
    if migration.version is not None:
        return 0, migration.version.key, ""
    return 1, (), migration.description


def discover(folder: Path) -> list[MigrationFile]:
    """The migrations in ``folder`` in run order; raises ``MigrationFilesInvalid`` listing every
    misnamed, unreadable or duplicated file."""
    files, problems = scan(folder)
    if problems:
        raise MigrationFilesInvalid.gathering(problems)
    return files
