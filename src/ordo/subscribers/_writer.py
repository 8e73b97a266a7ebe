"""One writer thread per slow subscriber, so that nothing slow runs under the event bus's lock.

The bus delivers one event at a time (``ordo.events.EventBus``); a subscriber that writes a
file, talks to a database or to a chat service hands its work to a ``BackgroundWriter`` and
returns at once. The writer owns exactly one thread, started by ``start()`` and stopped by
``close()``; nothing starts in a constructor, so whoever builds a writer also decides when it
runs and waits for it (``standard_subscribers`` for a run).

Items are handled in the order they were put, in batches: everything queued while the previous
batch was being written is handed over in one call, which is what lets the manifest recorder
write many marks with one atomic file replacement. Once an item arrives the writer lingers a
little (``LINGER_SECONDS``) for more before it writes, unless it is being flushed or closed:
woken for every event, the writers rewrote the manifest and committed to the store about once a
step, and their threads took the interpreter from the run's thread as often (issue 8, point
4: a thousand millisecond steps made 193 manifest replacements and 425 store transactions).

Errors never surface on a random thread. The first error of the handler is kept, the writer
stops handling, and the error is raised on the caller's thread at two defined points: the next
``put``/``check`` and ``close``. A writer that is not running (not started, or closed) handles
an item at once on the caller's thread, so that an event that arrives after the end of a run
is still recorded and a subscriber used without a writer thread behaves the same, only slower.

The thread runs in a copy of the context of the thread that called ``start()``, so context
variables (the run id that routes log records to the run's own log, ``subscribers.log``) hold
in it as they do in the run.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["LINGER_SECONDS", "BackgroundWriter"]

T = TypeVar("T")

LINGER_SECONDS = 0.05
"""How long the writer waits for more items after the first: the most a mark is held back."""


class BackgroundWriter(Generic[T]):
    """Hands items to ``write_batch`` on a thread of its own, in order, in batches."""

    def __init__(
        self,
        name: str,
        write_batch: Callable[[list[T]], None],
        *,
        linger: float = LINGER_SECONDS,
    ) -> None:
        self.name = name
        self._write_batch = write_batch
        self._linger = linger
        self._flushing = 0  # callers waiting in flush(): the writer stops lingering for them
        self._pending: list[T] = []
        self._writing = False
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Started and not closed: ``put`` queues instead of writing on the caller's thread."""
        with self._cond:
            return self._thread is not None and not self._closed

    def start(self) -> None:
        """Start the writer thread (once; a closed writer does not start again)."""
        with self._cond:
            if self._thread is not None or self._closed:
                return
            context = contextvars.copy_context()
            self._thread = threading.Thread(
                target=context.run, args=(self._loop,), name=self.name, daemon=True
            )
            self._thread.start()

    def put(self, item: T) -> None:
        """Queue ``item``; raises the writer's first error, if it had one, instead."""
        with self._cond:
            self._raise_kept()
            queued = self._thread is not None and not self._closed
            if queued:
                self._pending.append(item)
                if len(self._pending) == 1:  # the writer may be waiting for work: wake it
                    self._cond.notify_all()
        if not queued:
            self._write_batch([item])

    def check(self) -> None:
        """Raise the writer's first error, if it had one, on the calling thread."""
        with self._cond:
            self._raise_kept()

    def flush(self) -> None:
        """Wait until everything put so far is handled (or the writer has failed)."""
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while (self._pending or self._writing) and self._error is None and self._alive():
                    self._cond.wait()
            finally:
                self._flushing -= 1

    def close(self, timeout: float | None = None) -> bool:
        """Handle what is queued, then stop the thread; safe to call more than once.

        With a ``timeout`` (seconds) it gives up waiting after that long and returns False;
        the thread, a daemon, is then left to finish or to die with the process. Raises the
        writer's first error, if it had one (every time it is called).
        """
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        finished = True
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            finished = not thread.is_alive()
        self.check()
        return finished

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _raise_kept(self) -> None:
        if self._error is not None:
            raise self._error

    def _wait_for_more(self) -> None:
        """Linger for more items (the condition held), unless flushed or closed meanwhile."""
        deadline = time.monotonic() + self._linger
        while not self._closed and not self._flushing:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                self._wait_for_more()
                batch, self._pending = self._pending, []
                self._writing = True
            try:
                self._write_batch(batch)
            except BaseException as exc:  # kept and raised on the caller's thread, see above
                with self._cond:
                    self._error = exc
                    self._pending = []
                    self._writing = False
                    self._cond.notify_all()
                return
            with self._cond:
                self._writing = False
                self._cond.notify_all()
