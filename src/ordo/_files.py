"""Files written whole or not at all: temp file, fsync, rename; and the temps a crash leaves."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

__all__ = ["TEMP_MARKER", "remove_stale_temps", "write_atomic"]


TEMP_MARKER = ".ordo-tmp-"
"""Part of every temp file name ``write_atomic`` makes: ``.<name>.ordo-tmp-<hex>``."""


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old file or the new, never half.

    Writes a temp file in the same folder (so the rename cannot cross filesystems), fsyncs it,
    renames it over the target and fsyncs the folder so the rename itself is durable. An
    existing file keeps its permission bits; a symlink is followed and its target replaced.
    """
    path = Path(os.path.realpath(path))
    try:
        mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    tmp = path.with_name(f".{path.name}{TEMP_MARKER}{secrets.token_hex(6)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as out:
            if mode is not None:  # keep the file's permission bits, whatever the umask
                os.chmod(tmp, mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if os.name == "posix":  # Windows cannot open a folder to fsync it
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files a killed writer left beside ``path``; call it holding the manifest lock."""
    removed = []
    for stale in path.parent.glob(f".{path.name}{TEMP_MARKER}*"):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed
