"""Command-line options shared by every command group, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["DebugOpt", "EnvFileOpt", "NameArg", "ProjectOpt"]

ProjectOpt = Annotated[
    Path | None, typer.Option("--project", "-p", help="Project folder (default: current folder).")
]
EnvFileOpt = Annotated[
    Path | None, typer.Option("--env-file", help="Settings file (default: config/.env).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
NameArg = Annotated[str, typer.Argument(help="Connection name.")]
