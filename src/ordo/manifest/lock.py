"""One run of a manifest at a time, held with an OS file lock that dies with its process.

The lock is ``flock`` on a file beside the manifest, so a run killed with ``kill -9`` never
leaves a lock behind: the kernel releases it with the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from ordo.errors import ManifestLocked

__all__ = ["lock_path", "manifest_lock"]


def lock_path(manifest: Path) -> Path:
    return manifest.with_name(f".{manifest.name}.lock")


@contextmanager
def manifest_lock(manifest: Path) -> Iterator[None]:
    """Hold the manifest's lock for the block; raises ``ManifestLocked`` at once if it is taken."""
    lock = FileLock(lock_path(manifest), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise ManifestLocked(
            f"another ordo run is using {manifest}",
            file=manifest,
            hint="wait for it to finish; two runs of one manifest could do the same work twice",
        ) from exc
    try:
        yield
    finally:
        lock.release()
