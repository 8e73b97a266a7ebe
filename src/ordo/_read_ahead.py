"""Reading a step's input files in the background while ``ordo run`` is still starting up.

A run's first half second is Python importing SQLAlchemy, the run store and the runner, on
one core; a collect or seed step then spends as long again reading its files, in Arrow's and
calamine's native code, which lets go of the GIL. Started as soon as the manifest is read,
that reading runs on the other core while the imports go on, and the step takes the result
when it gets there.

Nothing here changes what a step sees: ``take`` hands over a result only when the read it
came from was started for the same key (the step's own inputs: paths and options) and none
of the files has changed since (size and modification time); otherwise the step reads them
itself, as it would have. A read that failed fails the same way when it is taken, so its
error is the one the step would have raised. One worker, first come first served: the steps
read in the order they run, and a second reader would only compete with the first for the
core the imports are not using.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["keep", "start", "take"]

T = TypeVar("T")
Stamp = tuple[Path, int, int] | tuple[Path, None, None]


@dataclass(frozen=True)
class _Started:
    stamps: tuple[Stamp, ...]
    future: Future[Any]


class _Reader:
    """The reads started in this process, and the thread that does them.

    The thread ends when it has nothing left to read, and is not a daemon: an interpreter
    that shuts down waits for the read in hand to end rather than pull the ground from under
    it (calamine's bindings abort the process when Python goes away mid-read). ``ordo run``
    itself ends with ``os._exit`` and waits for nothing."""

    def __init__(self) -> None:
        self.started: dict[Hashable, _Started] = {}
        self.lock = threading.Lock()
        self.jobs: deque[tuple[Future[Any], Callable[[], Any]]] = deque()
        self.working = False

    def start(self, key: Hashable, files: Sequence[Path], read: Callable[[], object]) -> None:
        with self.lock:
            if key in self.started:
                return
            future: Future[Any] = Future()
            self.started[key] = _Started(_stamps(files), future)
            self.jobs.append((future, read))
            if not self.working:
                self.working = True
                threading.Thread(target=self.work, name="ordo-read-ahead").start()

    def take(self, key: Hashable) -> _Started | None:
        with self.lock:
            return self.started.pop(key, None)

    def work(self) -> None:
        while True:
            with self.lock:
                if not self.jobs:
                    self.working = False
                    return
                future, read = self.jobs.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(read())
            except BaseException as exc:  # handed to take(), which raises it where it belongs
                future.set_exception(exc)


_READER = _Reader()


def start(key: Hashable, files: Sequence[Path], read: Callable[[], object]) -> None:
    """Begin ``read()`` in the background, for a later ``take(key, ...)``; a key already
    started is left as it is."""
    _READER.start(key, files, read)


def keep(key: Hashable, files: Sequence[Path], value: object) -> None:
    """Keep ``value``, already read from ``files``, for a later ``take(key, ...)``: what was
    read to start the others (the manifest) is not read twice."""
    future: Future[Any] = Future()
    future.set_result(value)
    with _READER.lock:
        _READER.started.setdefault(key, _Started(_stamps(files), future))


def take(key: Hashable, files: Sequence[Path], read: Callable[[], T]) -> T:
    """What ``read()`` returns: from the read started for ``key`` when ``files`` are as they
    were when it started, else from calling it now."""
    started = _READER.take(key)
    if started is None:
        return read()
    wait([started.future])  # however it ends
    if _stamps(files) != started.stamps:
        return read()
    return started.future.result()  # type: ignore[no-any-return]  # raises what read raised


def _stamps(files: Sequence[Path]) -> tuple[Stamp, ...]:
    stamps: list[Stamp] = []
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            stamps.append((path, None, None))
        else:
            stamps.append((path, st.st_size, st.st_mtime_ns))
    return tuple(stamps)
