"""``ordo init``: a new project (config, queue, scripts, logs) with a small example that runs."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from ordo.errors import InvalidInput

__all__ = ["DEMO_MARKER", "fresh_demo", "init_project"]

# Packaged under names without a leading dot, so every packaging tool ships them.
_RENAMES = {"config/env": "config/.env"}

DEMO_MARKER = ".ordo-demo"
"""A file in every folder ``fresh_demo`` makes: only such a folder is ever deleted by it."""


def init_project(directory: Path) -> Path:
    """Create ``directory`` with config, queue, scripts and logs; refuses a non-empty folder."""
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(
            f"{directory} exists and is not a folder",
            hint="choose a new folder; ordo init never overwrites files",
        )
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInput(
            f"{directory} exists and is not empty",
            hint="choose a new folder; ordo init never overwrites files",
        )
    try:
        with as_file(files("ordo.project") / "example") as example:
            shutil.copytree(
                example,
                directory,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
    except OSError as exc:
        raise InvalidInput(
            f"cannot create a project in {directory}: {exc.strerror or exc}",
            hint="choose a folder you can write to, whose parents are folders",
        ) from None
    for source, target in _RENAMES.items():
        (directory / source).rename(directory / target)
    for folder in ("logs", "data", "results"):
        (directory / folder).mkdir(exist_ok=True)
    (directory / ".gitignore").write_text("logs/\ndata/\nresults/\n.ordo/\n", encoding="utf-8")
    return directory.resolve()


def fresh_demo(directory: Path) -> Path:
    """A new example project in ``directory``, replacing the demo made there before.

    Only a folder that an earlier demo made (it holds ``DEMO_MARKER``) or an empty one is
    replaced: ``--dir`` pointing at a real project, a home folder or ``.`` must never be
    deleted.
    """
    if directory.exists():
        if not directory.is_dir():
            raise InvalidInput(
                f"{directory} exists and is not a folder",
                hint="choose another folder with --dir",
            )
        here = Path.cwd().resolve()
        target = directory.resolve()
        if here == target or target in here.parents:
            raise InvalidInput(
                f"{directory} holds the current folder; the demo will not delete it",
                hint="choose another folder with --dir",
            )
        if any(directory.iterdir()):
            if not (directory / DEMO_MARKER).is_file() and not _old_default_demo(directory):
                raise InvalidInput(
                    f"{directory} is not empty and was not made by `ordo demo`; "
                    "it is left untouched",
                    hint="choose another folder with --dir, or delete this one yourself",
                )
            shutil.rmtree(directory)
    root = init_project(directory)
    (root / DEMO_MARKER).write_text(
        "made by `ordo demo`, which deletes and recreates this folder on every run\n",
        encoding="utf-8",
    )
    return root


def _old_default_demo(directory: Path) -> bool:
    """The default ``.demo`` folder as demos made it before they left ``DEMO_MARKER``."""
    return (
        directory.name == ".demo"
        and (directory / "queue" / "manifest.yaml").is_file()
        and (directory / "config" / ".env").is_file()
    )
