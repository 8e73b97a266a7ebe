"""The files of a migrations folder, walked once the same way for migrations and callbacks."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["files_under"]


def files_under(folder: Path) -> list[tuple[str, Path]]:
    """``(script, path)`` for every file under ``folder``, subfolders included, sorted by the
    script name (the path relative to ``folder`` with ``/``, as Flyway records it); hidden files
    and folders are left out. Symlinked folders are not followed (a link back up would loop).
    A folder that does not exist has no files."""
    found: list[tuple[str, Path]] = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(top, name)
            if not name.startswith(".") and path.is_file():
                found.append((path.relative_to(folder).as_posix(), path))
    return sorted(found)
