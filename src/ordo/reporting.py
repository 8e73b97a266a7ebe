"""Subscribers that record what happened: the per-run log file and the manifest's done marks."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ordo.events import (
    Event,
    RollbackFinished,
    RollbackStarted,
    RunFinished,
    RunStarted,
    StepFailed,
    StepOutput,
    StepSkipped,
    StepStarted,
    StepSucceeded,
    UnitCommitted,
    UnitFailed,
    UnitRetrying,
)
from ordo.secrets import Masker

if TYPE_CHECKING:
    from ordo.manifest.state import ManifestState

__all__ = ["LOGGER", "EventLog", "ManifestRecorder", "MaskingFilter", "open_log_file"]

LOGGER = logging.getLogger("ordo")


class MaskingFilter(logging.Filter):
    """Masks every record that passes through a handler, whatever logger it came from."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self.masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.masker.mask(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.masker.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def open_log_file(logs_dir: Path, run_id: str, masker: Masker) -> tuple[Path, logging.Handler]:
    """A timestamped log file for one run, attached to the ``ordo`` logger."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    path = logs_dir / f"ordo_{stamp}_{run_id[:8]}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s"))
    handler.addFilter(MaskingFilter(masker))
    LOGGER.addHandler(handler)
    if LOGGER.level == logging.NOTSET or LOGGER.level > logging.INFO:
        LOGGER.setLevel(logging.INFO)
    return path, handler


class EventLog:
    """Writes one log line per event: the durable account of a run."""

    def __init__(self, logger: logging.Logger = LOGGER) -> None:
        self.log = logger

    def handle(self, event: Event) -> None:
        log = self.log
        match event:
            case RunStarted():
                log.info(
                    "run %s started: pipeline '%s', %d steps, manifest %s",
                    event.run_id,
                    event.pipeline,
                    len(event.steps),
                    event.manifest,
                )
            case StepStarted():
                log.info(
                    "[%d/%d] %s '%s' started (attempt %d)",
                    event.index,
                    event.total,
                    event.kind,
                    event.step,
                    event.attempt,
                )
            case StepOutput():
                log.info("  %s | %s", event.step, event.line)
            case StepSucceeded():
                rows = "" if event.rows is None else f", {event.rows} rows"
                log.info(
                    "'%s' finished in %.3fs%s (attempt %d)",
                    event.step,
                    event.duration,
                    rows,
                    event.attempt,
                )
            case StepFailed():
                kind = "transient" if event.transient else "permanent"
                log.error(
                    "'%s' failed after %.3fs (attempt %d, %s): %s",
                    event.step,
                    event.duration,
                    event.attempt,
                    kind,
                    event.error,
                )
            case RollbackStarted():
                log.warning("rolling back '%s' with its rollback", event.step)
            case RollbackFinished():
                verdict = "succeeded" if event.succeeded else f"failed: {event.error}"
                go_on = (
                    "; its dependents go on"
                    if event.succeeded and event.continue_on_rollback
                    else ""
                )
                log.warning("rollback of '%s' %s%s", event.step, verdict, go_on)
            case StepSkipped():
                log.info("'%s' skipped: %s", event.step, event.reason)
            case UnitRetrying():
                log.warning(
                    "retrying %s in %.1fs (attempt %d): %s",
                    ", ".join(event.steps),
                    event.delay,
                    event.next_attempt,
                    event.error,
                )
            case UnitCommitted():
                log.info("committed: %s", ", ".join(event.steps))
            case UnitFailed():
                log.error(
                    "rolled back: %s; '%s' failed for good after %d attempt(s)",
                    ", ".join(event.steps),
                    event.failed_step,
                    event.attempts,
                )
            case RunFinished():
                log.info(
                    "run %s finished: %s in %.2fs, %d steps done, %d not run",
                    event.run_id,
                    event.status,
                    event.duration,
                    len(event.completed),
                    len(event.not_run),
                )


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
