"""The ``ordo`` command: parses arguments, calls the library, prints. It holds no logic."""

from __future__ import annotations

import atexit
import contextlib
import copy
import gc
import os
import sys
from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer

from ordo.cli._guard import guarded
from ordo.cli.datasets import datasets_app
from ordo.cli.db import db_app
from ordo.cli.migrate import migrate_app
from ordo.cli.options import DebugOpt, EnvFileOpt, ManifestOpt, ProjectOpt, Typer
from ordo.cli.runs import runs_app
from ordo.cli.serve import serve_command, worker_command
from ordo.cli.service import jobs_app, token_app
from ordo.errors import InvalidInput

app = Typer(
    name="ordo",
    help="Runs database work in order, safely, and shows what happened.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ManifestArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="MANIFEST", help="Manifest file (default: queue/manifest.yaml); or -m FILE."
    ),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-P", metavar="NAME=VALUE", help="Template parameter (repeatable)."),
]
StrictParamsOpt = Annotated[
    bool,
    typer.Option(
        "--strict-params",
        help="Refuse a --param that no step uses, instead of warning about it.",
    ),
]
SelectOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        "-s",
        metavar="STEP",
        help="Only these steps: NAME, tag:NAME, +NAME (with what it depends on), NAME+ "
        "(with what depends on it); repeatable, or comma-separated.",
    ),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="STEP",
        help="Leave these steps out (same forms as --select); repeatable, or comma-separated.",
    ),
]

FailOnOpt = Annotated[
    str,
    typer.Option(
        "--fail-on",
        metavar="error|warn",
        help="What fails a step: an error (default), or a warning too (a check at severity warn).",
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Show what the database says too (PostgreSQL's RAISE NOTICE); the log has it.",
    ),
]


def _fail_on(value: str) -> Literal["error", "warn"]:
    if value not in ("error", "warn"):
        raise InvalidInput(f"--fail-on '{value}': write --fail-on error or --fail-on warn")
    return "warn" if value == "warn" else "error"


def _params(values: list[str] | None) -> dict[str, str]:
    params = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidInput(f"--param '{item}' is not NAME=VALUE")
        params[name] = value
    return params


def _manifest(positional: Path | None, option: Path | None) -> Path | None:
    """``ordo run FILE`` and ``ordo run -m FILE`` are the same (``-m`` as for ``ordo enable``)."""
    if positional is not None and option is not None and positional.resolve() != option.resolve():
        raise InvalidInput(
            f"two manifests given: {positional} and -m {option}",
            hint="name the manifest once, as MANIFEST or with -m FILE",
        )
    return option if option is not None else positional


def _selectors(values: list[str] | None) -> list[str]:
    """``--select a,b --select c`` is ``[a, b, c]``."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@app.command("run")
@guarded
def run_command(
    manifest: ManifestArg = None,
    manifest_opt: ManifestOpt = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    param: ParamOpt = None,
    strict_params: StrictParamsOpt = False,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and stop.")] = False,
    force: Annotated[
        bool, typer.Option("--force", "--yes", "-y", help="Run without asking for confirmation.")
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="[RUN_ID]",
            help="Run the steps of a failed run that did not complete (default: the last one).",
        ),
    ] = None,
    rehearse: Annotated[
        bool,
        typer.Option(
            "--rehearse",
            help="Run every SQL step for real in one transaction, then roll it all back.",
        ),
    ] = False,
    fail_on: FailOnOpt = "error",
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> int:
    """Plan, print, confirm, then run a manifest."""
    from ordo.api.read_ahead import read_ahead

    chosen = _manifest(manifest, manifest_opt)
    read_ahead(
        chosen,
        project=project,
        select=select or (),
        exclude=exclude or (),
        resume=resume,
        plan_only=dry_run,
    )
    from ordo.cli import commands  # here: Rich and the library load only when a command runs

    _start_up_over()
    return commands.run(
        chosen,
        project,
        env_file,
        _params(param),
        dry_run,
        force,
        select=_selectors(select),
        exclude=_selectors(exclude),
        resume=resume,
        rehearse=rehearse,
        strict_params=strict_params,
        verbose=verbose,
        fail_on=_fail_on(fail_on),
    )


@app.command("check")
@guarded
def check_command(
    manifest: ManifestArg = None,
    manifest_opt: ManifestOpt = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    param: ParamOpt = None,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    fail_on: FailOnOpt = "error",
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> int:
    """Run only the validate steps, changing nothing; exit 1 when a check fails."""
    from ordo.cli import commands  # here: Rich and the library load only when a command runs

    _start_up_over()
    return commands.check(
        _manifest(manifest, manifest_opt),
        project,
        env_file,
        _params(param),
        select=_selectors(select),
        exclude=_selectors(exclude),
        fail_on=_fail_on(fail_on),
        verbose=verbose,
    )


@app.command("status")
@guarded
def status_command(
    manifest: ManifestArg = None,
    manifest_opt: ManifestOpt = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    debug: DebugOpt = False,
) -> int:
    """Where the project stands: steps done and pending, connections, the last run, tables.

    Changes nothing; exits 1 when a connection does not answer or a DuckDB file is locked.
    """
    from ordo.cli.status import print_status  # here: the library loads only when it runs

    return print_status(_manifest(manifest, manifest_opt), project, env_file, as_json)


@app.command("plan")
@guarded
def plan_command(
    manifest: ManifestArg = None,
    manifest_opt: ManifestOpt = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    param: ParamOpt = None,
    strict_params: StrictParamsOpt = False,
    select: SelectOpt = None,
    exclude: ExcludeOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Validate a manifest and print its plan (the same as `run --dry-run`)."""
    from ordo.cli import commands  # here: Rich and the library load only when a command runs

    return commands.run(
        _manifest(manifest, manifest_opt),
        project,
        env_file,
        _params(param),
        True,
        False,
        select=_selectors(select),
        exclude=_selectors(exclude),
        strict_params=strict_params,
    )


@app.command("enable")
@guarded
def enable_command(
    steps: Annotated[
        list[str] | None, typer.Argument(metavar="STEP", help="Step names to enable again.")
    ] = None,
    all_steps: Annotated[bool, typer.Option("--all", help="Enable every disabled step.")] = False,
    manifest: ManifestOpt = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Enable done steps again, removing their Done comments (and their ledger rows)."""
    from ordo.cli import commands  # here: Rich and the library load only when a command runs

    return commands.enable(steps or [], all_steps, manifest, project, env_file)


@app.command("init")
@guarded
def init_command(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    example: Annotated[
        str,
        typer.Option(
            "--example",
            metavar="NAME",
            help="basic: SQL and Python steps on SQLite (default); setup: clear, CSV seeds, "
            "dbt models and checks on DuckDB; datasets: Excel reports collected into Parquet "
            "and published as versioned datasets.",
        ),
    ] = "basic",
    debug: DebugOpt = False,
) -> int:
    """Create a project with a small working example."""
    from ordo.cli import commands  # here: Rich and the library load only when a command runs

    return commands.init(directory, example)


@app.command("demo")
@guarded
def demo_command(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to put the demo project (recreated each time).")
    ] = Path(".demo"),
    debug: DebugOpt = False,
) -> int:
    """Create a fresh example project and run it end to end on SQLite."""
    from ordo.cli import commands  # here: Rich and the library load only when a command runs

    return commands.demo(directory)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version  # deferred: ordo --help stays fast

        typer.echo(f"ordo {version('ordo')}")
        raise typer.Exit()


@app.callback()
def main_callback(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            is_eager=True,
            callback=_show_version,
            help="Print ordo's version and exit.",
        ),
    ] = False,
) -> None:
    """Runs database work in order, safely, and shows what happened."""


app.add_typer(db_app, name="db")
app.add_typer(migrate_app, name="migrate")
app.add_typer(runs_app, name="runs")
app.add_typer(datasets_app, name="datasets")
app.add_typer(token_app, name="token")
app.add_typer(jobs_app, name="jobs")
app.command("serve")(serve_command)
app.command("worker")(worker_command)


def _bare_resume(argv: list[str]) -> list[str]:
    """``--resume`` without a run id means the last failed run (click wants a value)."""
    out = list(argv)
    for i, arg in enumerate(out):
        if arg == "--resume" and (i + 1 == len(out) or out[i + 1].startswith("-")):
            out.insert(i + 1, "last")
            break
    return out


class _StartUp:
    """Whether ``main`` turned the cyclic collector off for this command's start-up."""

    collector_off = False


_START_UP = _StartUp()


def _preload(argv: list[str]) -> bool:
    """For ``ordo run`` and ``ordo check``: the cyclic collector off until the command has
    imported the library (``_start_up_over``), which then freezes what start-up made out of its
    later scans.

    Start-up makes a few hundred thousand objects that live as long as the process (modules,
    classes, compiled statements); the collector walked them again and again while they were
    being made, and at every full collection of a long run after (about 4% of a one-step
    run's instructions). Only ``run`` and ``check`` are worth it: the others are short. Says
    whether it did (then ``main`` ends the process with ``_exit_now``).
    """
    if argv[:1] not in (["run"], ["check"]):
        return False
    gc.disable()
    _START_UP.collector_off = True
    return True


def _start_up_over() -> None:
    """After ``_preload``: the library is imported (for ``ordo run``, once its files have
    begun to be read ahead), so what start-up made is frozen and the collector back on."""
    if _START_UP.collector_off:
        _START_UP.collector_off = False
        gc.freeze()
        gc.enable()


def command_app(argv: list[str]) -> typer.Typer:
    """``app`` with only the command that ``argv`` names, or the whole of it.

    typer makes the click command of every function it knows, reading each one's signature,
    before it looks at the arguments: 27 commands cost a command line 15 ms of its start. With
    one command, the command line means the same (its usage, help and errors are that
    command's own); anything else (no command, ``--help``, ``--version``, a misspelt name,
    which gets its suggestions) sees them all."""
    name = argv[0] if argv else ""
    commands = [info for info in app.registered_commands if info.name == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def main() -> None:
    argv = _bare_resume(sys.argv[1:])
    if not _preload(argv):
        command_app(argv)(args=argv)
        return
    try:
        command_app(argv)(args=argv)
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code: object) -> NoReturn:
    """End ``ordo run`` without tearing the interpreter down.

    What ``_preload`` froze would otherwise outlive DuckDB's module at exit (its bindings then
    print "nanobind: leaked ..." to the user's terminal), and giving it back to the collector
    first cost a run 0.15 s. The run has closed its connections, files and threads by now;
    what remains is what an ordinary exit does first: the ``atexit`` handlers (the log's
    among them) and flushing the standard streams.
    """
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code if isinstance(code, int) else 0)
