"""Marks steps done in the manifest once their transaction has committed."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ordo.events import Event, RunFinished, UnitCommitted
from ordo.subscribers._writer import BackgroundWriter

if TYPE_CHECKING:
    from ordo.manifest.state import ManifestState

__all__ = ["ManifestRecorder"]

_Mark = tuple[tuple[str, ...], str, date]


class ManifestRecorder:
    """Marks steps done in the manifest once their transaction has committed, and not before.

    Writing the manifest atomically costs two fsyncs, more than a short step itself, so writes
    happen on a ``BackgroundWriter`` (running from ``start()``): every unit that commits while a
    write is under way is recorded by the next write, in one go. Marks still follow commits, and
    ``close`` (at ``RunFinished``, and again at the end of the run) waits until every mark is on
    disk. A crash can lose only the marks of units that committed during the last write, the
    same window a synchronous write leaves between a commit and its mark. Not started, it writes
    each mark before ``handle`` returns.

    A mark that cannot be written must stop the run (the manifest would lie otherwise): the
    writer's error is raised from the next ``handle`` and from ``close``, on the caller's thread.
    """

    def __init__(self, state: ManifestState) -> None:
        self.state = state
        self._writer: BackgroundWriter[_Mark] = BackgroundWriter("ordo-manifest", self._write)

    def start(self) -> None:
        self._writer.start()

    def handle(self, event: Event) -> None:
        if isinstance(event, UnitCommitted) and not event.rehearsal:
            note = f"{event.at:%H:%M:%S} run {event.run_id[:8]}"
            self._writer.put((event.steps, note, event.at.date()))
        elif isinstance(event, RunFinished):
            self.close()
        self._writer.check()

    def close(self) -> None:
        """Write what is pending, stop the writer; raises the writer's error if it had one."""
        self._writer.close()

    def _write(self, batch: list[_Mark]) -> None:
        by_note: dict[tuple[str, date], list[str]] = {}
        for steps, note, day in batch:
            by_note.setdefault((note, day), []).extend(steps)
        for (note, day), names in by_note.items():
            self.state.mark_done(names, note, today=day)
