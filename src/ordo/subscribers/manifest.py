"""Marks steps done in the manifest once their transaction has committed."""

from __future__ import annotations

import threading
from datetime import date
from typing import TYPE_CHECKING

from ordo.events import Event, RunFinished, UnitCommitted

if TYPE_CHECKING:
    from ordo.manifest.state import ManifestState

__all__ = ["ManifestRecorder"]


class ManifestRecorder:
    """Marks steps done in the manifest once their transaction has committed, and not before.

    Writing the manifest atomically costs two fsyncs, more than a short step itself, so writes
    happen on a background thread: every unit that commits while a write is under way is
    recorded by the next write, in one go. Marks still follow commits, and ``close`` (at the end
    of the run) waits until every mark is on disk. A crash can lose only the marks of units
    that committed during the last write, the same window a synchronous write leaves between
    a commit and its mark.
    """

    def __init__(self, state: ManifestState) -> None:
        self.state = state
        self._pending: list[tuple[tuple[str, ...], str, date]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write_loop, name="ordo-manifest", daemon=True)
        self._thread.start()

    def handle(self, event: Event) -> None:
        if isinstance(event, UnitCommitted) and not event.rehearsal:
            note = f"{event.at:%H:%M:%S} run {event.run_id[:8]}"
            with self._cond:
                self._pending.append((event.steps, note, event.at.date()))
                self._cond.notify()
        elif isinstance(event, RunFinished):
            self.close()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Write what is pending, stop the writer; raises the writer's error if it had one."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, []
            try:
                by_note: dict[tuple[str, date], list[str]] = {}
                for steps, note, day in batch:
                    by_note.setdefault((note, day), []).extend(steps)
                for (note, day), names in by_note.items():
                    self.state.mark_done(names, note, today=day)
            except BaseException as exc:
                self._error = exc
                return
