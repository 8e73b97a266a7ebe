"""Files written whole or not at all: temp file, fsync, rename; and the temps a crash leaves."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "TEMP_MARKER",
    "NotUtf8",
    "StagedFile",
    "arrow_sink",
    "read_utf8",
    "remove_stale_temps",
    "stage",
    "stage_writing",
    "write_atomic",
]


TEMP_MARKER = ".ordo-tmp-"
"""Part of every temp file name ``write_atomic`` makes: ``.<name>.ordo-tmp-<hex>``."""


class NotUtf8(ValueError):
    """A text file that is not UTF-8: where (1-based line and column) and which byte."""

    def __init__(self, path: Path, line: int, column: int, byte: int) -> None:
        super().__init__(
            f"{path} is not UTF-8 text: byte 0x{byte:02x} on line {line}, column {column} "
            "is not UTF-8 (the file may be latin-1 or Windows-1252)"
        )
        self.path, self.line, self.column, self.byte = path, line, column, byte

    hint = "re-save the file as UTF-8 (in an editor, or `iconv -f latin1 -t utf-8`)"


def read_utf8(path: Path) -> str:
    """The text of ``path`` as UTF-8 (a BOM allowed); ``NotUtf8`` says where it is not.

    Python's own error gives a byte offset, which no editor shows; the line and column do.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise NotUtf8(path, line, column, data[exc.start]) from None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old file or the new, never half.

    Writes a temp file in the same folder (so the rename cannot cross filesystems), fsyncs it,
    renames it over the target and fsyncs the folder so the rename itself is durable. An
    existing file keeps its permission bits, and its owner and group where this process may
    set them; a symlink is followed and its target replaced.
    """
    stage(path, data).replace()


class StagedFile:
    """A complete temp file beside its target, waiting to be renamed into place.

    The two halves of ``write_atomic``, for a caller that must write first and decide later:
    the runner writes a step's output inside the unit's transaction, so a failure to write it
    rolls the unit back, and renames it into place only once the transaction has committed.
    """

    def __init__(self, path: Path, tmp: Path, made: Sequence[Path] = ()) -> None:
        self.path, self.tmp = path, tmp
        self.made = list(made)  # folders made for it, deepest first: gone again on discard

    def replace(self) -> None:
        """Rename the temp file over the target, durably; the temp is gone either way."""
        try:
            self.rename()
        except BaseException:
            self.discard()
            raise

    def rename(self) -> None:
        """Rename the temp file over the target, durably; on failure the temp stays."""
        os.replace(self.tmp, self.path)
        if os.name == "posix":  # Windows cannot open a folder to fsync it
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def discard(self) -> None:
        """Remove the temp file, and the folders made for it if nothing else went in them."""
        self.tmp.unlink(missing_ok=True)
        _remove_folders(self.made)


def _remove_folders(made: Sequence[Path]) -> None:
    """Remove folders made for a file, deepest first, stopping at the first one in use."""
    for folder in made:
        try:
            folder.rmdir()
        except OSError:
            break  # not empty (or gone): leave it and everything above it


def stage(path: Path, data: bytes, *, make_folders: bool = False) -> StagedFile:
    """Write ``data`` to a fsynced temp file beside ``path``; ``replace()`` puts it in place.

    Refuses at once a target that is a folder, which the rename would only find out later.
    ``make_folders`` makes the missing folders above ``path``; ``discard()`` removes them.
    """
    return stage_writing(path, lambda out: out.write(data), make_folders=make_folders)


def stage_writing(
    path: Path, write: Callable[[BinaryIO], object], *, make_folders: bool = False
) -> StagedFile:
    """As ``stage``, with the content written by ``write`` to the open temp file as it comes
    (a streamed query result), so it is never held whole in memory. If ``write`` raises, the
    temp file (and any folder made for it) is gone and the target is untouched."""
    made: list[Path] = []
    if make_folders:
        folder = Path(os.path.abspath(path)).parent
        while not folder.exists() and folder != folder.parent:
            made.append(folder)
            folder = folder.parent
    try:
        if made:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return _stage(Path(os.path.realpath(path)), write, made)
    except BaseException:
        _remove_folders(made)
        raise


def _stage(path: Path, write: Callable[[BinaryIO], object], made: list[Path]) -> StagedFile:
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    mode = stat.S_IMODE(st.st_mode) if st is not None else None
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    tmp = path.with_name(f".{path.name}{TEMP_MARKER}{secrets.token_hex(6)}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
    try:
        with os.fdopen(fd, "wb") as out:
            if st is not None:
                _keep_owner(tmp, st)
            if mode is not None:  # keep the file's permission bits, whatever the umask
                os.chmod(tmp, mode)  # after chown, which may clear set-id bits
            write(out)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StagedFile(path, tmp, made)


def _keep_owner(tmp: Path, old: os.stat_result) -> None:
    """Give the new file the old one's owner and group where this process may.

    A new file belongs to whoever writes it: a manifest owned by ``deploy:data`` and rewritten
    by a run as root would otherwise end up ``root:root``. A process that may not set them (not
    root, or not a member of the group) keeps what it has; the mode is still kept.
    """
    if not hasattr(os, "chown"):  # Windows
        return
    current = os.stat(tmp)
    if (current.st_uid, current.st_gid) == (old.st_uid, old.st_gid):
        return
    try:
        os.chown(tmp, old.st_uid, old.st_gid)
    except PermissionError:
        with contextlib.suppress(PermissionError):  # a group member may still set the group
            os.chown(tmp, -1, old.st_gid)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files a killed writer left beside ``path``; call it holding the manifest lock."""
    removed = []
    for stale in path.parent.glob(f".{path.name}{TEMP_MARKER}*"):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed


@contextmanager
def arrow_sink(out: BinaryIO) -> Iterator[pa.NativeFile]:
    """``out`` as an Arrow stream that hands it the bytes in 1 MB pieces.

    Parquet's writer writes page by page; straight into a Python file, each page is a call
    back into Python, which made a 100,000-row file cost twice as long to write. ``out`` stays
    open (the caller fsyncs it) and has every byte once the block ends."""
    import pyarrow as pa

    sink = pa.BufferedOutputStream(pa.PythonFile(out, mode="w"), buffer_size=1 << 20)
    try:
        yield sink
    finally:
        sink.detach()  # flushes into ``out`` and leaves it open
