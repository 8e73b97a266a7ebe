"""``ordo datasets``: the published datasets of a versioned root, their history, a rollback.

The root is the folder a publish step writes (``root:``): given as ``root=``, or else taken
from the project's manifest when exactly one publish step there names one (relative to the
project folder, as the step reads it). Every call opens the root under its lock, so it never
reads a half-made switch, and removes what a killed run left unlisted
(``ordo.datasets.versions``). A rollback makes an older version newest again and keeps the
newest one in ``historical_db/``; it is the same switch a publish makes, as safe against a
crash.

``env_file=`` and ``environ=`` are taken as every use case takes them; a root needs no
setting, so they change nothing today.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ordo.datasets.versions import DatasetRoot, DatasetVersion, open_root
from ordo.errors import InvalidInput, PermanentError
from ordo.manifest.loader import load_manifest
from ordo.project import Project

__all__ = ["dataset_history", "datasets_root", "list_datasets", "rollback_dataset"]


def list_datasets(
    root: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    manifest: Path | str | None = None,
) -> list[DatasetVersion]:
    """Each dataset's newest version: name, time, rows and content hash."""
    with _opened(datasets_root(root, project=project, manifest=manifest)) as opened:
        return opened.versions()


def dataset_history(
    dataset: str,
    root: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    manifest: Path | str | None = None,
) -> list[DatasetVersion]:
    """Every version of ``dataset``, newest first; ``UnknownDataset`` lists the known ones."""
    with _opened(datasets_root(root, project=project, manifest=manifest)) as opened:
        return opened.history(dataset)


def rollback_dataset(
    dataset: str,
    to: str | None = None,
    root: Path | str | None = None,
    *,
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
    manifest: Path | str | None = None,
) -> DatasetVersion:
    """Make version ``to`` (default: the one before the newest) the newest of ``dataset``;
    the version it replaces stays in ``historical_db/``. Returns the new newest version."""
    with _opened(datasets_root(root, project=project, manifest=manifest)) as opened:
        return opened.rollback(dataset, to)


@contextmanager
def _opened(root: Path) -> Iterator[DatasetRoot]:
    """The root opened, a folder that cannot be read or written told in words."""
    try:
        with open_root(root) as opened:
            yield opened
    except OSError as exc:
        raise PermanentError(
            f"cannot use {root}: {exc.filename or root}: {exc.strerror or exc}",
            hint="check that the folder exists and can be written (the lock file is made there)",
        ) from exc


def datasets_root(
    root: Path | str | None = None,
    *,
    project: Path | str | None = None,
    manifest: Path | str | None = None,
) -> Path:
    """``root`` as given (from the current folder), or the one root the manifest's publish
    steps write; ``InvalidInput`` when there is none or more than one."""
    if root is not None:
        return Path(root).absolute()
    proj = Project.at(project)
    try:
        path = proj.manifest_path(manifest)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{exc.message}, so no publish step tells where the datasets are",
            hint="give the folder with --root DIR",
        ) from None
    loaded = load_manifest(path)
    roots = list(
        dict.fromkeys(
            str(getattr(entry.options, "root", ""))
            for entry in loaded.steps
            if entry.options.type == "publish" and getattr(entry.options, "root", None)
        )
    )
    if len(roots) == 1:
        found = Path(roots[0])
        return found if found.is_absolute() else proj.root / found
    if not roots:
        raise InvalidInput(
            f"no publish step in {path} names a root: to look in",
            hint="give the folder with --root DIR",
        )
    raise InvalidInput(
        f"the publish steps in {path} write {len(roots)} roots ({', '.join(roots)})",
        hint="choose one with --root DIR",
    )
