"""``ordo datasets``: the versions of published datasets, and rolling one back.

Printing only: the versions come from ``ordo.list_datasets``, ``ordo.dataset_history`` and
``ordo.rollback_dataset``, which a Python user can call too. Times are shown in local time;
``--json`` gives them in UTC, ISO 8601.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ordo.cli._guard import guarded
from ordo.cli._output import write_json_records
from ordo.cli.options import DebugOpt, EnvFileOpt, ManifestOpt, ProjectOpt, Typer

if TYPE_CHECKING:
    from rich.console import Console

    from ordo.datasets.versions import DatasetVersion

__all__ = ["datasets_app"]

datasets_app = Typer(
    help="Published datasets under a versioned root (newest/, historical_db/): "
    "`list`, `history NAME`, `rollback NAME [--to VERSION]`.",
    no_args_is_help=True,
)

RootOpt = Annotated[
    Path | None,
    typer.Option(
        "--root",
        metavar="DIR",
        help="The versioned root (default: the root: of the manifest's publish step, when "
        "exactly one names one).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DatasetArg = Annotated[str, typer.Argument(metavar="NAME", help="A dataset's name.")]
_UNLIMITED = 10_000


@datasets_app.command("list")
@guarded
def list_command(
    root: RootOpt = None,
    as_json: JsonOpt = False,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    manifest: ManifestOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Each dataset's newest version: name, time, rows and content hash."""
    from ordo.api.datasets import list_datasets  # deferred: ordo --help stays fast

    versions = list_datasets(root, project=project, env_file=env_file, manifest=manifest)
    if as_json:
        write_json_records(versions)
        return 0
    if not versions:
        _console().print("No datasets published yet.")
        return 0
    _print_versions(_console(), versions, with_dataset=True)
    return 0


@datasets_app.command("history")
@guarded
def history_command(
    dataset: DatasetArg,
    root: RootOpt = None,
    as_json: JsonOpt = False,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    manifest: ManifestOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Every version of one dataset, the newest first."""
    from ordo.api.datasets import dataset_history  # deferred: ordo --help stays fast

    versions = dataset_history(dataset, root, project=project, env_file=env_file, manifest=manifest)
    if as_json:
        write_json_records(versions)
        return 0
    _print_versions(_console(), versions, with_dataset=False)
    return 0


@datasets_app.command("rollback")
@guarded
def rollback_command(
    dataset: DatasetArg,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="VERSION",
            help="The version to make newest (default: the one before the newest); "
            "`ordo datasets history NAME` lists them.",
        ),
    ] = None,
    root: RootOpt = None,
    project: ProjectOpt = None,
    env_file: EnvFileOpt = None,
    manifest: ManifestOpt = None,
    debug: DebugOpt = False,
) -> int:
    """Make an older version of a dataset its newest again; the newest stays in history."""
    from rich.text import Text  # deferred: ordo --help stays fast

    from ordo.api.datasets import rollback_dataset  # deferred: ordo --help stays fast

    version = rollback_dataset(
        dataset, to, root, project=project, env_file=env_file, manifest=manifest
    )
    rows = "unknown rows" if version.rows is None else f"{version.rows} rows"
    _console().print(
        Text(
            f"{dataset}: {version.name} is the newest version again ({rows}); the one it "
            "replaced is kept in historical_db/"
        )
    )
    return 0


def _console() -> Console:
    """Rich's console; piped or captured, lines are never cut (a script reads them whole)."""
    from rich.console import Console  # deferred: ordo --help stays fast

    return Console(highlight=False) if sys.stdout.isatty() else Console(width=_UNLIMITED)


def _print_versions(console: Console, versions: list[DatasetVersion], with_dataset: bool) -> None:
    from rich.table import Table  # deferred: ordo --help stays fast
    from rich.text import Text  # deferred: ordo --help stays fast

    head = ["dataset"] if with_dataset else []
    table = Table(*head, "version", "published", "rows", "hash", "")
    for v in versions:
        when = v.time.astimezone().strftime("%Y-%m-%d %H:%M:%S") if v.time else ""
        cells = [Text(v.dataset)] if with_dataset else []
        table.add_row(
            *cells,
            Text(v.name),
            when,
            "" if v.rows is None else str(v.rows),
            v.hash or "",
            "newest" if v.newest else "",
        )
    console.print(table)
