"""``ordo db``: list, check and query named connections."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from ordo._words import plural
from ordo.cli._guard import guarded
from ordo.cli.options import DebugOpt, EnvFileOpt, ProjectOpt, Typer
from ordo.errors import InvalidInput

db_app = Typer(help="Named connections: list, health, pool, query.", no_args_is_help=True)


if TYPE_CHECKING:
    from rich.console import Console


def _console() -> Console:
    """Rich's console; when the output is not a terminal, tables are printed whole.

    Piped or captured, Rich assumes 80 columns and cuts a long URL or error to ``...``: a
    script reading ``ordo db list`` would lose exactly what it came for.
    """
    from rich.console import Console  # deferred: ordo --help stays fast

    return Console() if sys.stdout.isatty() else Console(width=_UNLIMITED)


_UNLIMITED = 10_000


@db_app.command("list")
@guarded
def list_command(
    project: ProjectOpt = None, env_file: EnvFileOpt = None, debug: DebugOpt = False
) -> int:
    """Connection names, types and masked URLs."""
    # Imported here, as in every command: `ordo --help` loads neither Rich nor the library.
    from rich.table import Column, Table
    from rich.text import Text  # deferred: ordo --help stays fast

    from ordo.api import databases  # deferred: ordo --help stays fast

    table = Table("name", "type", Column("url", overflow="fold"), "read-only")
    for info in databases.list_connections(project=project, env_file=env_file):
        # Text, not markup: a URL or message holding "[...]" is shown as written.
        if info.error:
            table.add_row(Text(info.name), "-", Text(info.error, style="red"), "")
        else:
            read_only = "yes" if info.read_only else ""
            table.add_row(Text(info.name), info.type, Text(info.url or ""), read_only)
    _console().print(table)
    return 0


@db_app.command("health")
@guarded
def health_command(
    names: Annotated[list[str] | None, typer.Argument(help="Connections (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    slow_ms: Annotated[
        float, typer.Option("--slow-ms", help="Slower than this is degraded.")
    ] = 1000.0,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Health of each connection; exits 1 when any is unhealthy."""
    from ordo.api import databases  # deferred: ordo --help stays fast

    reports = databases.health_check(
        names or [], slow_ms=slow_ms, project=project, env_file=env_file
    )
    if as_json:
        sys.stdout.write(json.dumps(reports, indent=2) + "\n")
    else:
        from rich.table import Column, Table  # deferred: ordo --help stays fast
        from rich.text import Text  # deferred: ordo --help stays fast

        table = Table(
            "name",
            "status",
            "connection",
            "query",
            "ms",
            "version",
            "pending",
            Column("error", overflow="fold"),
        )
        colour = {"healthy": "green", "degraded": "yellow", "unhealthy": "red"}
        for r in reports:
            migrations = r["migration_status"]
            table.add_row(
                r["database_name"],
                Text(r["status"], style=colour[r["status"]]),
                "yes" if r["connection"] else "no",
                "yes" if r["query_test"] else "no",
                f"{r['response_time_ms']:.1f}",
                str(migrations["current_version"] or "-"),
                str(len(migrations["pending_migrations"])),
                Text(r.get("error", "")),  # Text: a message is never read as markup
            )
        _console().print(table)
    return 1 if any(r["status"] == "unhealthy" for r in reports) else 0


@db_app.command("pool")
@guarded
def pool_command(
    name: Annotated[str, typer.Argument(help="Connection name.")] = "default",
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Pool status of a connection (as seen from this process), as JSON."""
    from ordo.api import databases  # deferred: ordo --help stays fast

    status = databases.pool_status(name, project=project, env_file=env_file)
    sys.stdout.write(json.dumps(status, indent=2) + "\n")
    return 0


@db_app.command("query")
@guarded
def query_command(
    name: Annotated[str, typer.Argument(help="Connection name.")],
    sql: Annotated[str, typer.Argument(help="One SQL statement.")],
    output: Annotated[str, typer.Option("--output", "-o", help="table, csv or json.")] = "table",
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds.")] = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Run one statement and print its rows."""
    from ordo.api import databases  # deferred: ordo --help stays fast
    from ordo.tabular import render  # deferred: ordo --help stays fast

    if output not in ("table", "csv", "json"):
        raise InvalidInput(f"--output must be table, csv or json, not '{output}'")
    result = databases.query(name, sql, timeout=timeout, project=project, env_file=env_file)
    if output != "table":
        sys.stdout.write(render(result, output))
        return 0
    from rich.table import Column, Table  # deferred: ordo --help stays fast
    from rich.text import Text  # deferred: ordo --help stays fast

    console = _console()
    if not result.columns:
        count = -1 if result.rowcount is None else result.rowcount  # -1: the driver cannot tell
        console.print(f"{plural(count, 'row')} affected" if count >= 0 else "done")
        return 0
    table = Table(*(Column(Text(c)) for c in result.columns))
    for row in result.rows:
        table.add_row(*(Text("NULL" if v is None else str(v)) for v in row))
    console.print(table)
    return 0
