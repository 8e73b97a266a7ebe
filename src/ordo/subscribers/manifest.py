"""Marks steps done in the manifest once their transaction has committed."""

from __future__ import annotations

import logging
import threading
from datetime import date
from typing import TYPE_CHECKING

from ordo.events import Event, RunFinished, UnitCommitted
from ordo.subscribers._writer import BackgroundWriter

if TYPE_CHECKING:
    from ordo.manifest.journal import MarkJournal
    from ordo.manifest.state import ManifestState

__all__ = ["ManifestRecorder"]

# the steps, the note, the day, and the run whose transaction committed them
_Mark = tuple[tuple[str, ...], str, date, str]


class ManifestRecorder:
    """Marks steps done in the manifest once their transaction has committed, and not before.

    Writing the manifest atomically costs two fsyncs, more than a short step itself, so writes
    happen on a ``BackgroundWriter`` (running from ``start()``): every unit that commits while a
    write is under way is recorded by the next write, in one go. Marks still follow commits, and
    ``close`` (at ``RunFinished``, and again at the end of the run) waits until every mark is on
    disk. A crash can lose only the marks of units that committed during the last write, the
    same window a synchronous write leaves between a commit and its mark. Not started, it writes
    each mark before ``handle`` returns.

    ``marked`` lists the steps whose marks are on disk, in the order written: their ledger rows
    have served (``ordo.run`` deletes them as the run ends, however it ends). With a
    ``journal`` each written mark is also noted there with the run that committed it (see
    ``manifest.journal``), so that a row left behind can never override a later re-enable.

    A mark that cannot be written must stop the run (the manifest would lie otherwise): the
    writer's error is raised from the next ``handle`` and from ``close``, on the caller's thread.
    """

    def __init__(self, state: ManifestState, journal: MarkJournal | None = None) -> None:
        self.state = state
        self.journal = journal
        self._marked: list[str] = []
        self._marked_lock = threading.Lock()
        self._writer: BackgroundWriter[_Mark] = BackgroundWriter("ordo-manifest", self._write)

    @property
    def marked(self) -> tuple[str, ...]:
        with self._marked_lock:
            return tuple(self._marked)

    def start(self) -> None:
        self._writer.start()

    def handle(self, event: Event) -> None:
        if isinstance(event, UnitCommitted) and not event.rehearsal:
            note = f"{event.at:%H:%M:%S} run {event.run_id[:8]}"
            by = event.committed_by or event.run_id
            self._writer.put((event.steps, note, event.at.date(), by))
        elif isinstance(event, RunFinished):
            self.close()
        self._writer.check()

    def close(self) -> None:
        """Write what is pending, stop the writer; raises the writer's error if it had one."""
        self._writer.close()

    def _write(self, batch: list[_Mark]) -> None:
        by_note: dict[tuple[str, date], list[str]] = {}
        committed_by: dict[str, str] = {}
        for steps, note, day, by in batch:
            by_note.setdefault((note, day), []).extend(steps)
            committed_by.update(dict.fromkeys(steps, by))
        for (note, day), names in by_note.items():
            self.state.mark_done(names, note, today=day)
            with self._marked_lock:
                self._marked.extend(names)
            if self.journal is not None:
                self._note(names, committed_by)

    def _note(self, names: list[str], committed_by: dict[str, str]) -> None:
        """Journal the marks; a failure is a warning: the marks themselves are written."""
        assert self.journal is not None
        try:
            self.journal.add((name, committed_by[name]) for name in names)
        except OSError as exc:
            logging.getLogger("ordo").warning(
                "could not note the done marks in %s (%s): a ledger row left behind may skip "
                "those steps if they are enabled again by hand; `ordo enable` clears such rows",
                self.journal.path,
                exc.strerror or type(exc).__name__,
            )
