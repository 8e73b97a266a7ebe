"""``ordo migrate``: Flyway-style migrations of a named connection.

``ordo migrate [NAME]`` applies; ``status``, ``repair`` and ``baseline`` are subcommands. A
click group cannot take an optional argument before its subcommands, so the group routes
anything that is not a subcommand name to the hidden ``apply`` command.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ordo._words import plural
from ordo.cli._guard import guarded
from ordo.cli.options import DebugOpt, EnvFileOpt, NameArg, ProjectOpt, Typer, WordsGroup

if TYPE_CHECKING:
    from rich.console import Console

    from ordo.migrations.history import HistoryEntry


class _ApplyByDefault(WordsGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["apply", *args]
        return super().parse_args(ctx, args)


migrate_app = Typer(
    cls=_ApplyByDefault,
    help=(
        "Flyway-style migrations of a named connection.\n\n"
        "ordo migrate [NAME] [--dry-run] [--target V] [--out-of-order] applies pending "
        "migrations (NAME defaults to 'default'; see ordo migrate apply --help)."
    ),
)


def _console() -> Console:
    """A console that reads no markup: script names, descriptions and problems are the user's
    text, and a ``[...]`` in them is shown as written; styles are given as ``Text``."""
    # Imported here, as in every command: `ordo --help` loads neither Rich nor the library.
    from rich.console import Console

    # Piped or captured, Rich assumes 80 columns and cuts a long script name in the status
    # table: a script reading the output would lose exactly what it came for.
    width = None if sys.stdout.isatty() else _UNLIMITED
    return Console(highlight=False, markup=False, width=width)


_UNLIMITED = 10_000


@migrate_app.command("apply")
@guarded
def apply_command(
    name: NameArg = "default",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would run.")] = False,
    target: Annotated[
        str | None, typer.Option("--target", metavar="VERSION", help="Stop at this version.")
    ] = None,
    out_of_order: Annotated[
        bool, typer.Option("--out-of-order", help="Allow versions below the current one.")
    ] = False,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Apply pending migrations in order."""
    from rich.text import Text  # deferred: ordo --help stays fast

    from ordo.api import migrations  # deferred: ordo --help stays fast

    console = _console()
    result = migrations.migrate(
        name,
        target=target,
        out_of_order=out_of_order,
        dry_run=dry_run,
        project=project,
        env_file=env_file,
    )
    if result.nothing_to_do:
        console.print(f"Schema is up to date at version {result.current_version or '<none>'}.")
        return 0
    if dry_run:
        console.print(f"Would apply {plural(len(result.planned), 'migration')}, in this order:")
        for m in result.planned:
            console.print(f"  {m.script}")
        console.print("Dry Run Complete")
        return 0
    for applied in result.applied:
        console.print(
            Text.assemble(("✓", "green"), f" {applied.script} ({applied.execution_time_ms} ms)")
        )
    console.print(
        f"Applied {plural(len(result.applied), 'migration')}: "
        f"{result.initial_version or '<none>'} -> {result.current_version or '<none>'}"
    )
    return 0


@migrate_app.command("status")
@guarded
def status_command(
    name: NameArg = "default",
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Current version, applied and pending migrations, and any problem; exits 1 on problems."""
    from rich.table import Column, Table  # deferred: ordo --help stays fast
    from rich.text import Text  # deferred: ordo --help stays fast

    from ordo.api import migrations  # deferred: ordo --help stays fast

    state = migrations.migration_status(name, project=project, env_file=env_file)
    console = _console()
    console.print(f"Current version: {state.current_version or '<none>'}")
    # the script is what a user looks for: folded onto more lines, never cut to "..."
    table = Table("version", "description", Column("script", overflow="fold"), "state")
    table.add_column("installed on")
    for entry in state.applied:
        installed = entry.installed_on.isoformat(" ", "seconds") if entry.installed_on else ""
        kind = "baseline" if entry.is_baseline else "applied"
        if not (entry.is_baseline or entry.is_versioned or entry.is_repeatable):
            kind = f"{entry.type.lower()} (recorded by Flyway, not run by ordo)"  # SCHEMA, JDBC
        table.add_row(_version(entry), entry.description, entry.script, kind, installed)
    for entry in state.failed:
        failed = Text("failed", style="red")
        table.add_row(_version(entry), entry.description, entry.script, failed, "")
    for m in state.pending:
        table.add_row(
            m.version.text if m.version else "R",
            m.description,
            m.script,
            Text("pending", style="yellow"),
            "",
        )
    console.print(table)
    for problem in state.problems:
        # One line each, however long (a path): a script reading the output gets it whole.
        console.print(Text.assemble(("problem:", "red"), " ", str(problem)), soft_wrap=True)
    return 1 if state.problems else 0


@migrate_app.command("repair")
@guarded
def repair_command(
    name: NameArg = "default",
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Realign checksums after a deliberate change and remove failed entries."""
    from ordo.api import migrations  # deferred: ordo --help stays fast

    result = migrations.repair_migrations(name, project=project, env_file=env_file)
    console = _console()
    if not result.changed:
        console.print("Nothing to repair.")
    for entry in result.removed:
        console.print(f"removed failed entry: {entry.script}")
    for change in result.realigned:
        checksums = f"{change.old_checksum} -> {change.new_checksum}"
        console.print(f"realigned: {change.script} (checksum {checksums})")
    return 0


@migrate_app.command("baseline")
@guarded
def baseline_command(
    version: Annotated[
        str,
        typer.Option(
            "--version",
            metavar="VERSION",
            help="The version the database is at (required: a guess here would hide the "
            "migrations up to it for good).",
        ),
    ],
    name: NameArg = "default",
    description: Annotated[
        str | None, typer.Option("--description", metavar="TEXT", help="Why, for the history.")
    ] = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Mark an existing database as being at --version: files up to it never run."""
    from ordo.api import migrations  # deferred: ordo --help stays fast

    migrations.baseline_migrations(
        name, version=version, description=description, project=project, env_file=env_file
    )
    typer.echo(f"Baselined '{name}' at version {version}.")
    return 0


def _version(entry: HistoryEntry) -> str:
    """The version column: ``R`` for a repeatable, empty for a row of no migration (Flyway's
    ``SCHEMA`` row, which records the schemas it created)."""
    if entry.version:
        return entry.version
    return "R" if entry.is_repeatable else ""
