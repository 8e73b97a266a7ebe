"""``ordo migrate``: Flyway-style migrations of a named connection.

``ordo migrate [NAME]`` applies; ``status``, ``repair`` and ``baseline`` are subcommands. A
click group cannot take an optional argument before its subcommands, so the group routes
anything that is not a subcommand name to the hidden ``apply`` command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ordo.cli.options import DebugOpt, EnvFileOpt, NameArg, ProjectOpt


class _ApplyByDefault(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["apply", *args]
        return super().parse_args(ctx, args)


migrate_app = typer.Typer(
    cls=_ApplyByDefault,
    help=(
        "Flyway-style migrations of a named connection.\n\n"
        "ordo migrate [NAME] [--dry-run] [--target V] [--out-of-order] applies pending "
        "migrations (NAME defaults to 'default'; see ordo migrate apply --help)."
    ),
)


def _settings(project: Path | None, env_file: Path | None) -> Any:
    from ordo.api.databases import load_settings

    return load_settings(project, env_file)


@migrate_app.command("apply", hidden=True)
def apply_command(
    name: NameArg = "default",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would run.")] = False,
    target: Annotated[str | None, typer.Option("--target", help="Stop at this version.")] = None,
    out_of_order: Annotated[
        bool, typer.Option("--out-of-order", help="Allow versions below the current one.")
    ] = False,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Apply pending migrations in order."""
    from ordo.cli.app import guard

    def action() -> int:
        from rich.console import Console

        from ordo.api import migrations

        console = Console(highlight=False)
        result = migrations.migrate(
            _settings(project, env_file),
            name,
            target=target,
            out_of_order=out_of_order,
            dry_run=dry_run,
        )
        if result.nothing_to_do:
            console.print(f"Schema is up to date at version {result.current_version or '<none>'}.")
            return 0
        if dry_run:
            console.print(f"Would apply {len(result.planned)} migration(s), in this order:")
            for m in result.planned:
                console.print(f"  {m.script}")
            console.print("Dry Run Complete")
            return 0
        for applied in result.applied:
            console.print(f"[green]✓[/] {applied.script} ({applied.execution_time_ms} ms)")
        console.print(
            f"Applied {len(result.applied)} migration(s): "
            f"{result.initial_version or '<none>'} -> {result.current_version or '<none>'}"
        )
        return 0

    guard(action, debug)


@migrate_app.command("status")
def status_command(
    name: NameArg = "default",
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Current version, applied and pending migrations, and any problem; exits 1 on problems."""
    from ordo.cli.app import guard

    def action() -> int:
        from rich.console import Console
        from rich.table import Table

        from ordo.api import migrations

        state = migrations.status(_settings(project, env_file), name)
        console = Console(highlight=False)
        console.print(f"Current version: {state.current_version or '<none>'}")
        table = Table("version", "description", "script", "state", "installed on")
        for entry in state.applied:
            installed = entry.installed_on.isoformat(" ", "seconds") if entry.installed_on else ""
            kind = "baseline" if entry.is_baseline else "applied"
            table.add_row(entry.version or "R", entry.description, entry.script, kind, installed)
        for entry in state.failed:
            table.add_row(
                entry.version or "R", entry.description, entry.script, "[red]failed[/]", ""
            )
        for m in state.pending:
            table.add_row(
                m.version.text if m.version else "R",
                m.description,
                m.script,
                "[yellow]pending[/]",
                "",
            )
        console.print(table)
        for problem in state.problems:
            console.print(f"[red]problem:[/] {problem}")
        return 1 if state.problems else 0

    guard(action, debug)


@migrate_app.command("repair")
def repair_command(
    name: NameArg = "default",
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Realign checksums after a deliberate change and remove failed entries."""
    from ordo.cli.app import guard

    def action() -> int:
        from rich.console import Console

        from ordo.api import migrations

        result = migrations.repair(_settings(project, env_file), name)
        console = Console(highlight=False)
        if not result.changed:
            console.print("Nothing to repair.")
        for entry in result.removed:
            console.print(f"removed failed entry: {entry.script}")
        for change in result.realigned:
            checksums = f"{change.old_checksum} -> {change.new_checksum}"
            console.print(f"realigned: {change.script} (checksum {checksums})")
        return 0

    guard(action, debug)


@migrate_app.command("baseline")
def baseline_command(
    name: NameArg = "default",
    version: Annotated[
        str, typer.Option("--version", help="The version the database is at.")
    ] = "1",
    description: Annotated[str | None, typer.Option("--description")] = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Mark an existing database as being at --version: files up to it never run."""
    from ordo.cli.app import guard

    def action() -> int:
        from ordo.api import migrations

        migrations.baseline(_settings(project, env_file), name, version, description)
        typer.echo(f"Baselined '{name}' at version {version}.")
        return 0

    guard(action, debug)
