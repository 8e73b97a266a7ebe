"""``ordo token`` and ``ordo jobs``: the service's tokens and jobs, over ``ordo.service``.

Printing only. A new token goes alone to standard output, so ``TOKEN=$(ordo token create
...)`` catches it; what to do with it goes to standard error. Nothing prints a token's hash.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ordo.cli._guard import guarded
from ordo.cli._output import write_json_records
from ordo.cli.options import DebugOpt, EnvFileOpt, ProjectOpt, Typer

if TYPE_CHECKING:
    from rich.console import Console

    from ordo.service.jobs import JobOverview
    from ordo.store.tokens import TokenRecord

__all__ = ["jobs_app", "token_app"]

token_app = Typer(
    help="API tokens for the service: create (shown once), list, revoke.", no_args_is_help=True
)
jobs_app = Typer(
    help="The service's jobs: list them, sync ordo.yaml, queue a run.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_UNLIMITED = 10_000


@token_app.command("create")
@guarded
def token_create_command(
    name: Annotated[str, typer.Option("--name", help="What the token is for: ci, alice, ...")],
    role: Annotated[
        str, typer.Option("--role", metavar="viewer|operator|admin", help="What it may do.")
    ],
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="30d",
            help="Valid for: 90m, 12h, 30d, 2w (default: until revoked).",
        ),
    ] = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Make a token and print it, once: the store keeps only its hash."""
    from ordo.service import project as service  # deferred: ordo --help stays fast

    made = service.create_token(name, role, expires=expires, project=project, env_file=env_file)
    sys.stdout.write(made.token + "\n")
    record = made.record
    until = "until revoked" if record.expires_at is None else f"until {_local(record.expires_at)}"
    sys.stderr.write(
        f"Token '{record.name}' ({record.role}), valid {until}.\n"
        "It will not be shown again: store it now (a password manager, a CI secret).\n"
    )
    return 0


@token_app.command("list")
@guarded
def token_list_command(
    as_json: JsonOpt = False,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Every token: name, role, state, created, expires, last used (never the token)."""
    from ordo.service import project as service  # deferred: ordo --help stays fast

    found = service.list_tokens(project=project, env_file=env_file)
    if as_json:
        write_json_records(found)
        return 0
    _print_tokens(_console(), found)
    return 0


@token_app.command("revoke")
@guarded
def token_revoke_command(
    name: Annotated[str, typer.Argument(help="The token's name (`ordo token list`).")],
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Revoke a token: it stops working at once."""
    from ordo.service import project as service  # deferred: ordo --help stays fast

    service.revoke_token(name, project=project, env_file=env_file)
    sys.stdout.write(f"Token '{name.strip()}' revoked: it no longer works.\n")
    return 0


@jobs_app.command("list")
@guarded
def jobs_list_command(
    as_json: JsonOpt = False,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Every job: name, schedule (and in words), time zone, enabled, next fire."""
    from ordo.service import project as service  # deferred: ordo --help stays fast

    found = service.list_jobs(project=project, env_file=env_file)
    if as_json:
        write_json_records(found)
        return 0
    _print_jobs(_console(), found)
    return 0


@jobs_app.command("run")
@guarded
def jobs_run_command(
    name: Annotated[str, typer.Argument(help="The job's name (or id).")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-P", metavar="NAME=VALUE", help="Over the job's (repeatable)."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", metavar="SELECTOR", help="Steps to run (repeatable)."),
    ] = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Queue a run of a job; a worker (ordo serve, ordo worker) runs it."""
    from ordo.errors import InvalidInput  # deferred: ordo --help stays fast
    from ordo.service import project as service  # deferred: ordo --help stays fast

    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param '{item}' is not NAME=VALUE")
        params[key] = value
    run = service.run_job(name, params=params, select=select, project=project, env_file=env_file)
    sys.stdout.write(f"{run.id}\n")
    sys.stderr.write(f"Queued run {run.id} of job '{run.job_name}'.\n")
    return 0


@jobs_app.command("sync")
@guarded
def jobs_sync_command(
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Bring the jobs of ordo.yaml into the store (what `ordo serve` does at start)."""
    from ordo.service import project as service  # deferred: ordo --help stays fast

    report = service.sync_jobs(project=project, env_file=env_file)
    lines = [
        f"{what:<10}{', '.join(names)}"
        for what, names in (
            ("created", report.created),
            ("updated", report.updated),
            ("disabled", report.disabled),
            ("unchanged", report.unchanged),
        )
        if names
    ]
    sys.stdout.write("\n".join(lines or ["ordo.yaml declares no jobs."]) + "\n")
    return 0


def _console() -> Console:
    from rich.console import Console  # deferred: ordo --help stays fast

    return Console(highlight=False) if sys.stdout.isatty() else Console(width=_UNLIMITED)


def _print_tokens(console: Console, found: list[TokenRecord]) -> None:
    from rich.table import Table  # deferred: ordo --help stays fast
    from rich.text import Text  # deferred: ordo --help stays fast

    if not found:
        console.print("No tokens yet: `ordo token create --name NAME --role ROLE` makes one.")
        return
    now = datetime.now(UTC)
    table = Table("name", "role", "state", "created", "expires", "last used")
    for token in found:
        table.add_row(
            Text(token.name),
            str(token.role),
            token.state_at(now),
            _local(token.created_at),
            _local(token.expires_at) if token.expires_at else "never",
            _local(token.last_used_at) if token.last_used_at else "never",
        )
    console.print(table)


def _print_jobs(console: Console, found: list[JobOverview]) -> None:
    from rich.table import Table  # deferred: ordo --help stays fast
    from rich.text import Text  # deferred: ordo --help stays fast

    if not found:
        console.print("No jobs yet: declare them in ordo.yaml, then `ordo jobs sync`.")
        return
    table = Table("name", "schedule", "in words", "timezone", "enabled", "next fire")
    for shown in found:
        spec = shown.job.spec
        table.add_row(
            Text(spec.name),
            Text(spec.schedule or "-"),
            Text(shown.schedule_words or ""),
            spec.timezone,
            "yes" if spec.enabled else "no",
            _in_zone(shown.next_fire, spec.timezone) if shown.next_fire else "-",
        )
    console.print(table)


def _in_zone(moment: datetime, zone: str) -> str:
    """The time on the job's own clock, with the zone's abbreviation (CET, EDT, UTC)."""
    from zoneinfo import ZoneInfo  # deferred: ordo --help stays fast

    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
