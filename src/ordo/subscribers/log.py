"""The per-run log file: a subscriber that owns its file, its formatter and its masker.

A run's log holds two kinds of lines. Its event lines (a step started, finished, failed) are
written straight into the file by ``EventLog``: a ``logging`` record per line cost about a
fifth of a millisecond step, and those lines are not for anyone else (the console says the
same to the user, so an error is shown once there and once in the log, not again on stderr).
Everything else that the library logs on the ``ordo`` logger while the run works (a warning of
the lanes, the store recorder, the notices) reaches the file through a handler.

Several runs may share a process (two threads calling ``ordo.run``, and later the service), but
the ``ordo`` logger is one for the whole process. So each run's handler keeps only the records
of its own run: those logged in a thread where the ``current_run()`` context variable names
it. ``run_context`` sets it for the run's thread; the runner's worker threads and the
subscribers' writer threads run in a copy of that context (``threading.Thread`` does not copy
it by itself).
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ordo._words import plural
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
from ordo.masking import Masker
from ordo.subscribers._buffered import BufferedFileHandler
from ordo.subscribers._failures import kept_lines

__all__ = ["LOGGER", "EventLog", "MaskingFilter", "RunLog", "current_run", "run_context"]

LOGGER = logging.getLogger("ordo")

_RUN: contextvars.ContextVar[str | None] = contextvars.ContextVar("ordo_run", default=None)
_FORMAT = "%(asctime)s %(levelname)-7s %(message)s"  # event lines are written the same way


def current_run() -> str | None:
    """The id of the run the calling thread works for, if any."""
    return _RUN.get()


@contextmanager
def run_context(run_id: str) -> Iterator[None]:
    """Records logged in this block (and in threads started from it) belong to ``run_id``."""
    token = _RUN.set(run_id)
    try:
        yield
    finally:
        _RUN.reset(token)


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


class _OneRun(logging.Filter):
    """Lets through only the records of one run (see the module docstring)."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def filter(self, record: logging.LogRecord) -> bool:
        return _RUN.get() == self.run_id


class RunLog:
    """An ``events.Subscriber`` writing one run's log file, ``logs/ordo_<time>_<run>.log``.

    ``start()`` opens the file and attaches its handler (filtered to this run, then masked) to
    the ``ordo`` logger; ``close()`` detaches and closes it, and is safe to call twice. The
    file is flushed on a short timer, at once for a warning or worse, and at close: a process
    killed outright may lose its last fraction of a second of INFO lines (``_buffered``).
    """

    def __init__(
        self, logs_dir: Path, run_id: str, masker: Masker, logger: logging.Logger = LOGGER
    ) -> None:
        stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
        self.path = Path(logs_dir) / f"ordo_{stamp}_{run_id[:8]}.log"
        self.run_id = run_id
        self._masker = masker
        self._logger = logger
        self._events = EventLog(self._write)
        self._handler: BufferedFileHandler | None = None

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handler = BufferedFileHandler(self.path)  # INFO lines reach the disk within 0.2 s
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(_OneRun(self.run_id))  # first: another run's masker never sees it
        handler.addFilter(MaskingFilter(self._masker))
        self._handler = handler
        self._logger.addHandler(handler)
        if self._logger.level == logging.NOTSET or self._logger.level > logging.INFO:
            self._logger.setLevel(logging.INFO)

    def handle(self, event: Event) -> None:
        self._events.handle(event)

    def _write(self, level: int, *messages: str) -> None:
        """Each line of the messages a line of the log, with one time stamp, written at once.

        Masked before the time stamp goes on: the masker skips text with neither ``:`` nor
        ``=`` (most output), and every time stamp has a ``:``.
        """
        handler = self._handler
        if handler is not None:
            head = f"{_timestamp()} {logging.getLevelName(level):<7} "
            body = self._masker.mask("\n".join(messages))
            text = head + body.replace("\n", "\n" + head)  # a million lines: no loop of ours
            handler.write_text(text, urgent=level >= logging.WARNING)

    def close(self) -> None:
        handler, self._handler = self._handler, None
        if handler is not None:
            self._logger.removeHandler(handler)
            handler.close()


class EventLog:
    """Writes one log line per event: the durable account of a run.

    ``write`` takes the level and the lines; ``RunLog`` masks them and puts them in the file.
    """

    def __init__(self, write: Callable[..., None]) -> None:
        self._write = write

    def handle(self, event: Event) -> None:
        def line(level: int, message: str, *args: object) -> None:
            self._write(level, message % args if args else message)

        match event:
            case RunStarted():
                line(
                    logging.INFO,
                    "run %s started: pipeline '%s', %d steps, manifest %s",
                    event.run_id,
                    event.pipeline,
                    len(event.steps),
                    event.manifest,
                )
            case StepStarted() if event.attempt == 0:  # found in the ledger: not run
                line(logging.INFO, "[%d/%d] %s '%s' not run", *_where(event))
            case StepStarted():
                line(
                    logging.INFO,
                    "[%d/%d] %s '%s' started (attempt %d)",
                    event.index,
                    event.total,
                    event.kind,
                    event.step,
                    event.attempt,
                )
            case StepOutput():  # one line, or a block of them a process printed at once
                said = f"  {event.step} | "
                self._write(logging.INFO, said + event.line.replace("\n", "\n" + said))
            case StepSucceeded() if event.attempt == 0:
                line(logging.INFO, "'%s' recorded as done: an earlier run committed it", event.step)
            case StepSucceeded():
                rows = "" if event.rows is None else f", {plural(event.rows, 'row')}"
                details = f" details {_json(event.details)}" if event.details else ""
                line(
                    logging.INFO,
                    "'%s' finished in %.3fs%s (attempt %d)%s",
                    event.step,
                    event.duration,
                    rows,
                    event.attempt,
                    details,
                )
                for warning in event.warnings:
                    line(logging.WARNING, "'%s' warns: %s", event.step, warning)
            case StepFailed():
                kind = "transient" if event.transient else "permanent"
                line(
                    logging.ERROR,
                    "'%s' failed after %.3fs (attempt %d, %s): %s",
                    event.step,
                    event.duration,
                    event.attempt,
                    kind,
                    event.error,
                )
                for key, value in event.details.items():
                    if key == "rendered_sql":  # as it ran, numbered as the database counts
                        line(logging.INFO, "  %s | rendered SQL:", event.step)
                        for n, text in enumerate(str(value).splitlines(), start=1):
                            line(logging.INFO, "  %s | %4d  %s", event.step, n, text)
                    else:
                        line(logging.INFO, "  %s | %s=%s", event.step, key, _json(value))
            case RollbackStarted():
                line(logging.WARNING, "rolling back '%s' with its rollback", event.step)
            case RollbackFinished():
                verdict = "succeeded" if event.succeeded else f"failed: {event.error}"
                go_on = (
                    "; its dependents go on"
                    if event.succeeded and event.continue_on_rollback
                    else ""
                )
                line(logging.WARNING, "rollback of '%s' %s%s", event.step, verdict, go_on)
            case StepSkipped():
                line(logging.INFO, "'%s' skipped: %s", event.step, event.reason)
            case UnitRetrying():
                line(
                    logging.WARNING,
                    "retrying %s in %.1fs (attempt %d): %s",
                    ", ".join(event.steps),
                    event.delay,
                    event.next_attempt,
                    event.error,
                )
            case UnitCommitted():
                line(logging.INFO, "committed: %s", ", ".join(event.steps))
            case UnitFailed():
                for kept in kept_lines(event):
                    line(logging.WARNING, "%s", kept)
                # nothing to roll back outside a transaction, or without a connection
                undone = (
                    f"rolled back: {', '.join(event.rolled_back)}; " if event.rolled_back else ""
                )
                line(
                    logging.ERROR,
                    "%s'%s' failed for good after %s",
                    undone,
                    event.failed_step,
                    plural(event.attempts, "attempt"),
                )
            case RunFinished():
                if event.error and not event.failed_step:  # no step said it: the run's own
                    line(logging.ERROR, "the run could not go on: %s", event.error)
                counted = (
                    event.completed,
                    event.failed,
                    event.rolled_back,
                    event.uncertain,
                    event.not_run,
                )
                total = sum(map(len, counted))
                line(
                    logging.INFO,
                    "run %s finished: %s in %.2fs (%s: %s)",
                    event.run_id,
                    event.status,
                    event.duration,
                    plural(total, "step"),
                    event.counts(),
                )


def _timestamp() -> str:
    """``logging.Formatter``'s default ``asctime`` (``2026-12-02 05:18:40,123``)."""
    now = time.time()
    whole = int(now)
    return f"{_second(whole)},{int((now - whole) * 1000):03d}"


@functools.lru_cache(maxsize=4)
def _second(whole: int) -> str:
    """Its ``strftime`` part, done once a second rather than once a line."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(whole))


def _where(event: StepStarted) -> tuple[int, int, str, str]:
    return event.index, event.total, event.kind, event.step


def _json(value: object) -> str:
    """One line of compact JSON (a kind's details); the handlers' filter masks it."""
    return json.dumps(value, separators=(",", ":"), default=str)
