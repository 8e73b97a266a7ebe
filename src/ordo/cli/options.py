"""Command-line options shared by every command group, defined once; help that names values in
words.

Typer labels a value by its Python type (``-P <list[str]>``, ``-n <int>``), which tells a user
nothing about what to write. ``Typer`` here is typer's, with commands and groups that name each
value by what it is: the option's own ``metavar`` (``NAME=VALUE``, ``STEP``, ``DIR``) or else
its name in capitals (``--target TARGET``), and arguments by their name alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = [
    "DebugOpt",
    "EnvFileOpt",
    "ManifestOpt",
    "NameArg",
    "ProjectOpt",
    "Typer",
    "WordsCommand",
    "WordsGroup",
]

ProjectOpt = Annotated[
    Path | None,
    typer.Option(
        "--project",
        "-p",
        metavar="DIR",
        help="Project folder (default: the nearest folder upwards holding queue/manifest.yaml "
        "or config/.env, else the current folder).",
    ),
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option("--env-file", metavar="FILE", help="Settings file (default: config/.env)."),
]
ManifestOpt = Annotated[
    Path | None,
    typer.Option(
        "--manifest",
        "-m",
        metavar="FILE",
        help="Manifest file (default: queue/manifest.yaml).",
    ),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Connection name.")]


def _name_values(params: list[Any]) -> None:
    """Give every value-taking option and argument without a ``metavar`` its name in capitals."""
    for param in params:
        if not isinstance(param, TyperArgument | TyperOption) or param.name is None:
            continue
        if param.metavar is not None or (
            isinstance(param, TyperOption) and (param.is_flag or param.count)
        ):
            continue
        param.metavar = param.name.upper()


class WordsCommand(TyperCommand):
    """A command whose help names values in words (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_values(self.params)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if isinstance(param, TyperArgument):
                # typer appends the Python type to an argument's name: the name says enough
                many = "..." if param.nargs != 1 else ""
                arguments.append((f"{param.metavar or param.name}{many}", record[1]))
            else:
                options.append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


class WordsGroup(TyperGroup):
    """A group whose own options (``ordo runs -n N``) are named in words too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_values(self.params)


class Typer(typer.Typer):
    """typer's ``Typer`` whose groups and commands are ``WordsGroup`` and ``WordsCommand``."""

    def __init__(self, *args: Any, cls: type[TyperGroup] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, cls=cls or WordsGroup, **kwargs)

    def command(  # type: ignore[override]
        self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return super().command(*args, cls=cls or WordsCommand, **kwargs)
