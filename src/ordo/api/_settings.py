"""How every use case turns its ``project=``/``env_file=``/``environ=`` into ``Settings``.

One function, so ``ordo.plan``, ``ordo.migrate``, ``ordo.list_runs`` and the rest resolve a
project and its settings the same way: the folder given (default: the current one), its env
files, and ``environ`` (default: the real environment) winning over both.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ordo.config import Settings
from ordo.project import Project

__all__ = ["load_settings"]


def load_settings(
    project: Path | str | None = None,
    env_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings of ``project`` (``InvalidInput`` when the folder does not exist)."""
    root = Project.at(project).root
    return Settings.load(root, env_file=Path(env_file) if env_file else None, environ=environ)
