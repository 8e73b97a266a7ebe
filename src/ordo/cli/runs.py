"""``ordo runs``: the recorded runs of a project, and ``ordo runs show RUN_ID`` for one of them.

Printing only: the runs come from ``ordo.list_runs`` and ``ordo.show_run``, which a Python
user can call too.
Times are shown in local time; ``--json`` gives them in UTC, ISO 8601.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ordo.cli._guard import guarded
from ordo.cli._output import write_json_records
from ordo.cli.options import DebugOpt, EnvFileOpt, ProjectOpt, Typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from ordo.store.base import RunDetail, RunRecord, TaskRecord

__all__ = ["runs_app"]

runs_app = Typer(
    help="Recorded runs: `ordo runs` lists the recent ones, `ordo runs show RUN_ID` one run.",
    invoke_without_command=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_STATUS_STYLE = {
    "success": "green",
    "COMPLETED": "green",
    "partial_success": "yellow",
    "RETRYING": "yellow",
    "RUNNING": "cyan",
    "running": "cyan",
    "failed": "red",
    "FAILED": "red",
    "aborted": "red",
    "crashed": "red",
    "SKIPPED": "dim",
    "PENDING": "dim",
}
_UNLIMITED = 10_000


@runs_app.callback(invoke_without_command=True)
@guarded
def list_command(
    ctx: typer.Context,
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="How many runs.")] = 20,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", help="Only the runs of this pipeline.")
    ] = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int | None:
    """Recent runs, newest first: id, pipeline, status, start, duration, steps."""
    if ctx.invoked_subcommand is not None:
        return None  # `ordo runs show ...`: the subcommand does the work
    # Imported here, as in every command: `ordo --help` loads neither Rich nor the library.
    from ordo.api import run_history as history

    runs = history.list_runs(limit=limit, job=pipeline, project=project, env_file=env_file)
    if as_json:
        write_json_records(runs)
        return 0
    _print_runs(_console(), runs)
    return 0


@runs_app.command("show")
@guarded
def show_command(
    run_id: Annotated[str, typer.Argument(help="A run id, or enough of its start.")],
    as_json: JsonOpt = False,
    manifest: Annotated[
        bool, typer.Option("--manifest", help="Print the exact manifest the run used.")
    ] = False,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """One run: each step with status, attempts, duration, rows and error, then its details."""
    from ordo.api import run_history as history  # deferred: ordo --help stays fast

    detail = history.show_run(run_id, project=project, env_file=env_file)
    if manifest:
        sys.stdout.write(detail.manifest_text)
    elif as_json:
        sys.stdout.write(json.dumps(detail.as_dict(), indent=2) + "\n")
    else:
        _print_detail(_console(), detail)
    return 0


# -- rendering --------------------------------------------------------------------------------


def _console() -> Console:
    """Rich's console; piped or captured, lines are never cut (a script reads them whole)."""
    from rich.console import Console  # deferred: ordo --help stays fast

    return Console(highlight=False) if sys.stdout.isatty() else Console(width=_UNLIMITED)


def _print_runs(console: Console, runs: list[RunRecord]) -> None:
    from rich.table import Table  # deferred: ordo --help stays fast
    from rich.text import Text  # deferred: ordo --help stays fast

    if not runs:
        console.print("No runs recorded yet.")
        return
    table = Table("run", "pipeline", "status", "started", "duration", "done", "failed", "skipped")
    for run in runs:
        status = _status(str(run.status))
        if run.rehearsal:
            status.append(" (rehearsal)")
        table.add_row(
            run.id[:8],
            Text(run.job),  # Text, not markup: a name holding "[...]" is shown as written
            status,
            _local(run.started_at),
            _seconds(run.duration),
            str(run.completed),
            str(run.failed),
            str(run.skipped),
        )
    console.print(table)


def _print_detail(console: Console, detail: RunDetail) -> None:
    from rich.table import Column, Table  # deferred: ordo --help stays fast
    from rich.text import Text  # deferred: ordo --help stays fast

    run = detail.run
    head = Text.assemble(("run ", "bold"), run.id, "  ", _status(str(run.status)))
    if run.rehearsal:
        head.append(" (rehearsal)")
    console.print(head)
    console.print(Text(f"pipeline   {run.job}  ({run.manifest_path})"))
    console.print(f"started    {_local(run.started_at)}   duration {_seconds(run.duration)}")
    console.print(f"manifest   sha256 {run.manifest_hash[:16]}")
    if run.resumed_from:
        console.print(f"resumed    from run {run.resumed_from}")
    if run.owner is not None:
        console.print(Text(f"process    pid {run.owner.pid} on {run.owner.host}"))
    if run.error:
        console.print(Text.assemble(("error      ", "red"), run.error))
    table = Table(
        "#",
        "step",
        "type",
        "unit",
        "status",
        "attempts",
        "duration",
        "rows",
        Column("error", overflow="fold"),
    )
    for task in detail.tasks:
        table.add_row(
            str(task.position),
            Text(task.step),
            task.task_type or "",
            _unit(task),
            _status(str(task.status)),
            _attempts(task),
            _milliseconds(task.duration_ms),
            "" if task.rows_affected is None else str(task.rows_affected),
            Text(task.error or ""),
        )
    console.print(table)
    with_details = [task for task in detail.tasks if task.details]
    if with_details:
        console.print("details")
        for task in with_details:
            shown = json.dumps(dict(task.details), separators=(", ", ": "), default=str)
            console.print(Text(f"  {task.step}: {shown}"))  # Text: brackets are not markup


def _status(status: str) -> Text:
    from rich.text import Text  # deferred: ordo --help stays fast

    return Text(status, style=_STATUS_STYLE.get(status, ""))


def _unit(task: TaskRecord) -> str:
    unit = "" if task.unit_index is None else str(task.unit_index)
    if task.transaction_group is not None:
        unit += f" (group {task.transaction_group})"
    return unit.strip()


def _attempts(task: TaskRecord) -> str:
    if task.max_attempts is None:
        return str(task.attempt_count)
    return f"{task.attempt_count}/{task.max_attempts}"


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _milliseconds(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.1f} ms" if ms < 1000 else _seconds(ms / 1000)
