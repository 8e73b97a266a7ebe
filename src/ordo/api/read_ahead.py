"""Starting to read a manifest's input files before ``ordo run`` has finished starting up.

``read_ahead`` reads the manifest and asks each step whose kind reads big files (``seed``,
``collect``: ``ordo.kinds.base.ReadsAhead``) to start reading them in the background
(``ordo._read_ahead``). It is called before the rest of the library is imported, and it
imports no more than reading a manifest needs, so that the reading overlaps the imports.

It is a head start and nothing else: whatever goes wrong here (no manifest, a bad one, a
missing file, a plugin kind's own mistake) is left for the run, which finds it again and says
so where it belongs. A dry run reads ahead only what planning reads (a seed's files, not a
collect step's workbooks). With
``--select``, ``--exclude`` or ``--resume`` it does nothing: which steps run is known only
once the plan is built, and a step that does not run must not cost a read. The manifest it
read is kept for the run (``manifest_key``), which takes it if the file has not changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ordo import _read_ahead
from ordo.kinds import get_kind
from ordo.kinds.base import reader_ahead
from ordo.manifest.loader import load_manifest
from ordo.project import Project

__all__ = ["manifest_key", "read_ahead"]


def manifest_key(path: Path) -> tuple[str, Path]:
    """The key the manifest read here is kept under, for the run's plan to take."""
    return ("manifest", path)


def read_ahead(
    manifest: Path | str | None = None,
    *,
    project: Path | str | None = None,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    resume: str | None = None,
    plan_only: bool = False,
) -> None:
    """Start reading the input files of the manifest's enabled steps in the background;
    ``plan_only`` (a dry run): only those that planning reads."""
    if select or exclude or resume is not None:
        return
    try:
        proj = Project.at(project)
        path = proj.manifest_path(manifest)
        loaded = load_manifest(path)
    except Exception:  # a head start never stops a run: the run says what is wrong
        return
    _read_ahead.keep(manifest_key(path), [path], loaded)
    for entry in loaded.steps:
        if not entry.options.enabled:
            continue
        try:
            reader = reader_ahead(get_kind(entry.options.type), plan_only=plan_only)
            if reader is not None:
                reader.read_ahead(entry.options, proj, loaded.path.parent)
        except Exception:  # the plan says what is wrong with the step
            continue
