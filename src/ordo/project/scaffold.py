"""``ordo init``: a new project (config, queue, scripts, logs) with a small example that runs."""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from ordo.errors import InvalidInput

__all__ = ["DEMO_MARKER", "EXAMPLES", "GITIGNORE", "fresh_demo", "ignore_in", "init_project"]

# Packaged under names without a leading dot, so every packaging tool ships them.
_RENAMES = {"config/env": "config/.env"}

# A fresh `git init` folder may hold these: ordo init goes in beside them (and adds to the
# .gitignore what it lacks), overwriting none of them.
_GIT_FILES = frozenset((".git", ".gitignore", ".gitattributes"))

DEMO_MARKER = ".ordo-demo"
"""A file in every folder ``fresh_demo`` makes: only such a folder is ever deleted by it."""


# ``ordo init --example NAME``: the folder of each example project in this package.
EXAMPLES = {
    "basic": "example",  # SQL and Python steps on SQLite
    "setup": "setup_example",  # clear, CSV seeds, dbt models, checks and a summary on DuckDB
    "datasets": "datasets_example",  # Excel reports collected and published as datasets
}


def init_project(directory: Path, example: str = "basic") -> Path:
    """Create ``directory`` with config, queue, scripts and logs; refuses a non-empty folder
    (one holding only git's own files is empty enough: its ``.gitignore`` gains what it lacks).

    ``example`` picks what it holds (``EXAMPLES``): ``basic`` SQL and Python steps on SQLite,
    ``setup`` a setup workflow on DuckDB (clear, seeds, dbt models, checks), ``datasets``
    Excel reports collected into Parquet and published as versioned datasets."""
    if example not in EXAMPLES:
        raise InvalidInput(
            f"there is no example '{example}'",
            hint=f"choose one of: {', '.join(EXAMPLES)}",
        )
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(
            f"{directory} exists and is not a folder",
            hint="choose a new folder; ordo init never overwrites files",
        )
    if directory.exists() and any(p.name not in _GIT_FILES for p in directory.iterdir()):
        raise InvalidInput(
            f"{directory} exists and is not empty",
            hint="choose a new folder (or one holding only git's files); "
            "ordo init never overwrites files",
        )
    try:
        with as_file(files("ordo.project") / EXAMPLES[example]) as packaged:
            shutil.copytree(
                packaged,
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
    ignore_in(directory / ".gitignore", GITIGNORE)
    return directory.resolve()


GITIGNORE = (
    "logs/",
    "data/",
    "results/",
    ".ordo/",
    # secrets: the settings files hold connection strings and passwords
    "config/.env",
    "config/.env.*",
    # the lock a run holds beside its manifest (``.manifest.yaml.lock``), whatever its name
    ".*.yaml.lock",
    ".*.yml.lock",
    # the marks journal beside it (``.manifest.yaml.ordo-marks``): this machine's bookkeeping
    ".*.ordo-marks",
)
"""What a project's ``.gitignore`` keeps out of git: run output, state, secrets, locks."""


def ignore_in(gitignore: Path, patterns: tuple[str, ...]) -> list[str]:
    """Add the ``patterns`` a ``.gitignore`` lacks, at its end; returns those added.

    An existing file is never rewritten: its lines, order and comments stay as the user wrote
    them, and a pattern already there (however indented) is not added twice.
    """
    try:
        text = gitignore.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    present = {line.strip() for line in text.splitlines()}
    missing = [p for p in patterns if p not in present]
    if missing:
        lead = "\n" if text and not text.endswith("\n") else ""
        with gitignore.open("a", encoding="utf-8") as out:
            out.write(lead + "".join(f"{p}\n" for p in missing))
    return missing


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
