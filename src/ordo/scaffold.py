"""``ordo init``: a new project in seed 000's layout, holding a small example that runs."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from ordo.errors import InvalidInput

__all__ = ["init_project"]

# Packaged under names without a leading dot, so every packaging tool ships them.
_RENAMES = {"config/env": "config/.env"}


def init_project(directory: Path) -> Path:
    """Create ``directory`` with config, queue, scripts and logs; refuses a non-empty folder."""
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInput(
            f"{directory} exists and is not empty",
            hint="choose a new folder; ordo init never overwrites files",
        )
    with as_file(files("ordo") / "example") as example:
        shutil.copytree(
            example,
            directory,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    for source, target in _RENAMES.items():
        (directory / source).rename(directory / target)
    for folder in ("logs", "data", "results"):
        (directory / folder).mkdir(exist_ok=True)
    (directory / ".gitignore").write_text("logs/\ndata/\nresults/\n.ordo/\n", encoding="utf-8")
    return directory.resolve()
